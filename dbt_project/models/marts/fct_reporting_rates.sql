-- Reporting rates per (period, dataset): share of the 38 districts whose dataset is served,
-- and served from a version that arrived by the deadline.
with

submissions as (
    select
        period,
        dataset,
        served_version,
        is_on_time
    from {{ ref('fct_submissions') }}
),

districts as (
    select district_code from {{ ref('dim_districts') }}
),

expected as (
    select count(*) as expected_reports from districts
),

counted as (
    select
        period,
        dataset,
        count(served_version) as actual_reports,
        count(case when is_on_time then 1 end) as reports_on_time
    from submissions
    group by
        period,
        dataset
),

final as (
    select
        counted.period,
        counted.dataset,
        expected.expected_reports,
        counted.actual_reports,
        counted.reports_on_time,
        {{ fraction('counted.actual_reports', 'expected.expected_reports') }}
            as reporting_rate,
        {{ fraction('counted.reports_on_time', 'expected.expected_reports') }}
            as reporting_rate_on_time
    from counted
    cross join expected
)

select * from final
