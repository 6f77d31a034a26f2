-- For every (processed period P, district D): the households D paid in P (a paid served row)
-- and in no earlier month of P's year. Each household a district pays in a year has one row,
-- in the month it was first paid, so the households paid from January to P are the rows of
-- January to P: what int_households_reached_ytd counts, reading about one month's households
-- instead of every paid row of the year (households are paid month after month: at a fifth
-- of a province, 155,680 households over 11 months against 2.57 M paid rows;
-- docs/performance.md).
--
-- Incremental by (P, D) with the year-to-date fingerprint (macros/reach_inputs.sql): a
-- correction of a month recomputes that month and the later ones of its year. A household's
-- first month is the earliest of its paid rows in the months recomputed and of this table's
-- own rows of the months kept (still current: their fingerprints did not change).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ record_district_periods_to_compute(year_to_date=true) }}",
    )
}}

with

to_compute as {{ district_periods_to_compute(year_to_date=true) }},

bounds as (
    select
        min(to_compute.period) as first_period,
        {{ january_of('min(to_compute.period)') }} as first_january
    from to_compute
),

-- the households paid in the months recomputed (constant lower bounds: only the newest
-- blocks are read, macros/planner_statistics.sql)
paid_in_month as (
    select
        paid.period,
        paid.district_code,
        paid.household_key
    from {{ ref('int_households_paid') }} as paid
    inner join to_compute
        on paid.period = to_compute.period
        and paid.district_code = to_compute.district_code
    where paid.period >= (select bounds.first_period from bounds)
),

-- and, from January of the first of them, this table's own rows of the months kept: a
-- district's months recomputed are always the last of its year (the year-to-date
-- fingerprint), so its kept months of that year all come before them
paid_in_year as (
    select * from paid_in_month
    {{ union_rows_kept(
        ['period', 'district_code', 'household_key'],
        'kept.period >= (select bounds.first_january from bounds)'
    ) }}
),

-- each household's first month of the year, kept only where that month is recomputed
first_paid as (
    select
        min(period) as period,
        district_code,
        household_key
    from paid_in_year
    group by
        district_code,
        household_key,
        extract(year from period)
)

select
    first_paid.*,
    {{ built_at() }} as built_at
from first_paid
inner join to_compute
    on first_paid.period = to_compute.period
    and first_paid.district_code = to_compute.district_code
