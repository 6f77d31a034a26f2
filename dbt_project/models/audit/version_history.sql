-- Every file version of every (period, district, dataset) with whether it is the one served,
-- or held by a standing approval (issue 17):
-- the contract's served-version rule (§3) stated per version, so no auditor rebuilds it with
-- a window function. The row counts reconcile the two places rows go: `rows_quarantined`
-- rows are in audit.row_rejections, `rows_loaded` rows in the warehouse, and
-- `rows_not_loaded` = rows_total - rows_loaded. A file rejected by the threshold
-- (too_many_invalid_rows) records rows_rejected = rows_total although only its bad rows
-- are quarantined: its good rows are the difference, neither loaded nor quarantined.
{{ config(materialized='view') }}

with

file_versions as (
    select
        period,
        district_code,
        dataset,
        version,
        file_name,
        sha256,
        size_bytes,
        received_at,
        deadline_at,
        is_received_by_deadline,
        status,
        rejection_reason,
        is_servable,
        rows_total,
        rows_accepted,
        rows_rejected,
        judged_at
    from {{ ref('stg_audit__file_versions') }}
),

served as (
    select
        period,
        district_code,
        dataset,
        served_version
    from {{ ref('int_file_versions_served') }}
),

quarantined as (
    select
        period,
        district_code,
        dataset,
        version,
        count(*) as rows_quarantined
    from {{ ref('stg_audit__row_rejections') }}
    group by
        period,
        district_code,
        dataset,
        version
),

approvals as (
    select
        period,
        district_code,
        dataset,
        approved_version,
        approved_at
    from {{ ref('int_approvals_standing') }}
),

latest as (
    select
        period,
        district_code,
        dataset,
        max(version) as latest_version
    from file_versions
    group by
        period,
        district_code,
        dataset
),

final as (
    select
        file_versions.period,
        file_versions.district_code,
        file_versions.dataset,
        file_versions.version,
        file_versions.file_name,
        file_versions.sha256,
        file_versions.size_bytes,
        file_versions.received_at,
        file_versions.deadline_at,
        file_versions.is_received_by_deadline,
        file_versions.status,
        file_versions.rejection_reason,
        coalesce(file_versions.version = served.served_version, false) as is_served,
        file_versions.version = latest.latest_version as is_latest,
        served.served_version,
        -- servable, newer than the version an approval locked: held while it stands
        coalesce(
            file_versions.is_servable
            and file_versions.version > coalesce(approvals.approved_version, 0),
            false
        ) as is_held_by_approval,
        approvals.approved_at as held_since,
        file_versions.rows_total,
        file_versions.rows_accepted,
        file_versions.rows_rejected,
        cast(coalesce(quarantined.rows_quarantined, 0) as integer) as rows_quarantined,
        case
            when file_versions.is_servable then file_versions.rows_accepted else 0
        end as rows_loaded,
        file_versions.rows_total
        - case
            when file_versions.is_servable then file_versions.rows_accepted else 0
        end as rows_not_loaded,
        file_versions.judged_at
    from file_versions
    inner join latest
        on file_versions.period = latest.period
        and file_versions.district_code = latest.district_code
        and file_versions.dataset = latest.dataset
    left join served
        on file_versions.period = served.period
        and file_versions.district_code = served.district_code
        and file_versions.dataset = served.dataset
    left join approvals
        on file_versions.period = approvals.period
        and file_versions.district_code = approvals.district_code
        and file_versions.dataset = approvals.dataset
    left join quarantined
        on file_versions.period = quarantined.period
        and file_versions.district_code = quarantined.district_code
        and file_versions.dataset = quarantined.dataset
        and file_versions.version = quarantined.version
)

select * from final
