-- Reporting per district: for every (processed period, district), how many of the four
-- datasets arrived, are served and were on time, the period's deadline in WIB, and how many
-- hours after it the district's served data was complete as it stands. The per-district
-- view of fct_reporting_rates: the timeliness table of a dashboard needs no SQL. And whether
-- the province has approved (locked) the district's data for the period (issue 17).
with

spined_submissions as (
    select
        period,
        district_code,
        dataset,
        is_reported
    from {{ ref('int_submissions_spined') }}
),

file_versions as (
    select
        period,
        district_code,
        dataset,
        versions_received,
        is_on_time,
        first_servable_received_at,
        first_servable_deadline_at
    from {{ ref('int_file_versions_summarised') }}
),

submissions as (
    select
        spined_submissions.period,
        spined_submissions.district_code,
        spined_submissions.is_reported,
        coalesce(file_versions.versions_received, 0) > 0 as is_received,
        coalesce(file_versions.is_on_time, false) as is_on_time,
        file_versions.first_servable_received_at,
        extract(
            epoch from (
                file_versions.first_servable_received_at
                - file_versions.first_servable_deadline_at
            )
        ) as seconds_after_deadline
    from spined_submissions
    left join file_versions
        on spined_submissions.period = file_versions.period
        and spined_submissions.district_code = file_versions.district_code
        and spined_submissions.dataset = file_versions.dataset
),

approvals as (
    select
        period,
        district_code,
        count(*) as datasets_approved,
        max(approved_at) as approved_at,
        -- who recorded the latest of the standing approvals
        max(case when approval_rank = 1 then approved_by end) as approved_by
    from (
        select
            period,
            district_code,
            approved_at,
            approved_by,
            row_number() over (
                partition by period, district_code order by approved_at desc
            ) as approval_rank
        from {{ ref('int_approvals_standing') }}
    ) as ranked
    group by
        period,
        district_code
),

per_district as (
    select
        period,
        district_code,
        count(*) as datasets_expected,
        sum(case when is_received then 1 else 0 end) as datasets_received,
        sum(case when is_reported then 1 else 0 end) as datasets_served,
        sum(case when is_on_time then 1 else 0 end) as datasets_on_time,
        max(first_servable_received_at) as last_served_received_at,
        max(seconds_after_deadline) as max_seconds_after_deadline
    from submissions
    group by
        period,
        district_code
),

reporting as (
    select
        period,
        district_code,
        cast(datasets_expected as integer) as datasets_expected,
        cast(datasets_received as integer) as datasets_received,
        cast(datasets_served as integer) as datasets_served,
        cast(datasets_on_time as integer) as datasets_on_time,
        cast(datasets_served - datasets_on_time as integer) as datasets_served_late,
        cast(datasets_expected - datasets_served as integer) as datasets_not_served,
        datasets_served = datasets_expected as is_complete,
        datasets_on_time = datasets_expected as is_complete_on_time,
        {{ deadline_wib('period') }} as deadline_wib,
        last_served_received_at,
        -- NULL when nothing is served (greatest() would turn NULL into 0 on PostgreSQL)
        case
            when max_seconds_after_deadline <= 0 then cast(0 as numeric(10, 1))
            else cast(
                    round(cast(max_seconds_after_deadline as numeric) / 3600, 1) as numeric(10, 1)
                )
        end as hours_late
    from per_district
),

final as (
    select
        reporting.*,
        cast(coalesce(approvals.datasets_approved, 0) as integer) as datasets_approved,
        coalesce(approvals.datasets_approved, 0) = reporting.datasets_expected as is_approved,
        approvals.approved_at,
        approvals.approved_by
    from reporting
    left join approvals
        on reporting.period = approvals.period
        and reporting.district_code = approvals.district_code
)

select * from final
