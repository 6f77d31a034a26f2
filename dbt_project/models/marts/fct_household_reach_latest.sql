-- "This year so far" without holes: per (year, district), the latest processed period of the
-- year in which the district's roster was served (`as_of_period`), with that period's
-- year-to-date figures from fct_household_reach. fct_household_reach leaves a month NULL
-- when the district's roster is missing or rejected (spec); a dashboard of the year takes
-- the district's latest reported month from here instead, and `is_current` says whether it
-- is the year's latest processed period. A district with no served roster in the year has
-- NULL `as_of_period` and measures.
with

reach as (
    select
        period,
        district_code,
        is_reported,
        dtks_period,
        eligible_households,
        eligible_households_reached_ytd,
        unreached_rate_ytd,
        cast(extract(year from period) as integer) as year
    from {{ ref('fct_household_reach') }}
),

latest_processed as (
    select
        year,
        max(period) as latest_processed_period
    from reach
    group by year
),

districts as (
    select district_code from {{ ref('dim_districts') }}
),

latest_reported as (
    select
        year,
        district_code,
        max(period) as as_of_period,
        count(*) as reported_periods
    from reach
    where is_reported
    group by
        year,
        district_code
),

final as (
    select
        latest_processed.year,
        districts.district_code,
        latest_processed.latest_processed_period,
        latest_reported.as_of_period,
        coalesce(
            latest_reported.as_of_period = latest_processed.latest_processed_period, false
        ) as is_current,
        cast(coalesce(latest_reported.reported_periods, 0) as integer) as reported_periods,
        reach.dtks_period,
        reach.eligible_households,
        reach.eligible_households_reached_ytd,
        reach.eligible_households - reach.eligible_households_reached_ytd
            as unreached_eligible_households_ytd,
        reach.unreached_rate_ytd
    from latest_processed
    cross join districts
    left join latest_reported
        on latest_processed.year = latest_reported.year
        and districts.district_code = latest_reported.district_code
    left join reach
        on latest_reported.as_of_period = reach.period
        and latest_reported.district_code = reach.district_code
)

select * from final
