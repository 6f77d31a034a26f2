-- The served version of each (period, district, dataset) of a processed period: the greatest
-- version whose status is ACCEPTED or PARTIAL (contract §3). A later REJECTED version never
-- replaces it. While an approval stands (int_approvals_standing), the version it locked stays
-- served instead, so a resubmission is held; NULL locked (nothing was served when approved)
-- keeps the dataset unserved. Combinations with nothing served have no row.
with

file_versions as (
    select
        period,
        district_code,
        dataset,
        version
    from {{ ref('stg_audit__file_versions') }}
    where is_servable
),

processed_periods as (
    select period from {{ ref('stg_audit__processed_periods') }}
),

latest_servable as (
    select
        file_versions.period,
        file_versions.district_code,
        file_versions.dataset,
        max(file_versions.version) as latest_servable_version
    from file_versions
    inner join processed_periods
        on file_versions.period = processed_periods.period
    group by
        file_versions.period,
        file_versions.district_code,
        file_versions.dataset
),

approvals as (
    select
        period,
        district_code,
        dataset,
        approved_version
    from {{ ref('int_approvals_standing') }}
),

served as (
    select
        latest_servable.period,
        latest_servable.district_code,
        latest_servable.dataset,
        latest_servable.latest_servable_version,
        approvals.period is not null as is_approved,
        case
            when approvals.period is not null then approvals.approved_version
            else latest_servable.latest_servable_version
        end as served_version
    from latest_servable
    left join approvals
        on latest_servable.period = approvals.period
        and latest_servable.district_code = approvals.district_code
        and latest_servable.dataset = approvals.dataset
)

select
    *,
    -- a newer servable version arrived after the approval and is not served
    is_approved and latest_servable_version > coalesce(served_version, 0) as is_held_by_approval
from served
where served_version is not null
