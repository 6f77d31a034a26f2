-- fct_reporting_rates is fct_submissions counted: 38 expected, served and on-time districts.
with

submissions as (
    select * from {{ ref('fct_submissions') }}
),

reporting_rates as (
    select * from {{ ref('fct_reporting_rates') }}
),

counted as (
    select
        period,
        dataset,
        count(*) as expected_reports,
        count(served_version) as actual_reports,
        count(case when is_on_time then 1 end) as reports_on_time
    from submissions
    group by
        period,
        dataset
)

select
    reporting_rates.period,
    reporting_rates.dataset,
    reporting_rates.actual_reports,
    counted.actual_reports as counted_actual_reports,
    reporting_rates.reports_on_time,
    counted.reports_on_time as counted_reports_on_time
from reporting_rates
inner join counted
    on reporting_rates.period = counted.period
    and reporting_rates.dataset = counted.dataset
where reporting_rates.expected_reports <> counted.expected_reports
    or reporting_rates.actual_reports <> counted.actual_reports
    or reporting_rates.reports_on_time <> counted.reports_on_time
    or reporting_rates.reports_on_time > reporting_rates.actual_reports
