-- fct_district_reporting and fct_reporting_rates count the same served and on-time
-- datasets: summed over districts and over datasets, both give one total per period.
with

per_district as (
    select
        period,
        sum(datasets_expected) as expected,
        sum(datasets_served) as served,
        sum(datasets_on_time) as on_time
    from {{ ref('fct_district_reporting') }}
    group by period
),

per_dataset as (
    select
        period,
        sum(expected_reports) as expected,
        sum(actual_reports) as served,
        sum(reports_on_time) as on_time
    from {{ ref('fct_reporting_rates') }}
    group by period
)

select
    per_district.period,
    per_district.served,
    per_dataset.served as served_by_dataset
from per_district
full outer join per_dataset
    on per_district.period = per_dataset.period
where per_dataset.period is null
    or per_district.period is null
    or per_district.expected <> per_dataset.expected
    or per_district.served <> per_dataset.served
    or per_district.on_time <> per_dataset.on_time
