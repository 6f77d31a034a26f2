-- BPS poverty figures beside the DTKS eligibility per (year, district), for every year in
-- the BPS reference data or in the processed periods. The DTKS side is taken at the latest
-- processed period of the year (`as_of_period`); NULL for a year with no processed period.
with

districts as (
    select district_code from {{ ref('dim_districts') }}
),

bps_poverty as (
    select * from {{ ref('stg_seeds__bps_poverty') }}
),

processed_periods as (
    select period from {{ ref('stg_audit__processed_periods') }}
),

snapshots as (
    select
        period,
        district_code,
        eligible_households,
        eligible_individuals
    from {{ ref('int_dtks_snapshots_carried_forward') }}
),

household_reach as (
    select
        period,
        district_code,
        eligible_households_reached_ytd
    from {{ ref('fct_household_reach') }}
),

latest_period_of_year as (
    select
        cast(extract(year from period) as integer) as year,
        max(period) as as_of_period
    from processed_periods
    group by cast(extract(year from period) as integer)
),

years as (
    select year from bps_poverty
    union
    select year from latest_period_of_year
),

final as (
    select
        years.year,
        districts.district_code,
        bps_poverty.poverty_rate_pct,
        bps_poverty.poor_population_thousands,
        bps_poverty.poverty_line_idr,
        bps_poverty.p1,
        bps_poverty.p2,
        latest_period_of_year.as_of_period,
        snapshots.eligible_households,
        snapshots.eligible_individuals,
        household_reach.eligible_households_reached_ytd,
        {{ fraction('snapshots.eligible_individuals',
                    'bps_poverty.poor_population_thousands * 1000') }}
            as eligible_individuals_per_poor_person
    from years
    cross join districts
    left join bps_poverty
        on years.year = bps_poverty.year
        and districts.district_code = bps_poverty.district_code
    left join latest_period_of_year
        on years.year = latest_period_of_year.year
    left join snapshots
        on latest_period_of_year.as_of_period = snapshots.period
        and districts.district_code = snapshots.district_code
    left join household_reach
        on latest_period_of_year.as_of_period = household_reach.period
        and districts.district_code = household_reach.district_code
)

select * from final
