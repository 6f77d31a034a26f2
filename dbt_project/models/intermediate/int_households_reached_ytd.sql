-- For every (processed period P, district D) with a DTKS snapshot in effect: how many of the
-- households eligible in *that* snapshot had a paid row in any served roster of D in the
-- processed periods from January of P's year up to P. (Whether P's own roster is served, which
-- makes the figure NULL in the marts, is decided there.)
--
-- Incremental (macros/reach_inputs.sql): a (P, D) is recomputed when its snapshot, the
-- threshold or any served roster of D from January to P changed. Each eligible household is
-- counted once if the district first paid it in a month of the year up to P (a semi-join with
-- int_households_first_paid_in_year: one row per household and year, not every paid row).
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

snapshots as {{ snapshots_in_effect('to_compute') }},

-- each household once a year, in the month the district first paid it
first_paid as (
    select
        period,
        district_code,
        household_key
    from {{ ref('int_households_first_paid_in_year') }}
    -- a constant lower bound, January of the first period computed: only the newest blocks
    -- are read (macros/planner_statistics.sql)
    where
        period >= (
            select {{ january_of('min(parts.period)') }}
            from to_compute as parts
        )
),

-- The households eligible in the snapshot in effect for P (whichever month it is from).
eligible_households as (
    select
        snapshots.period,
        snapshots.district_code,
        eligible.household_key
    from snapshots
    inner join {{ ref('int_dtks_households_eligible') }} as eligible
        on snapshots.district_code = eligible.district_code
        and snapshots.dtks_period = eligible.dtks_period
    -- a constant lower bound: only the newest blocks of the served DTKS rows are read
    where eligible.dtks_period >= (select min(parts.dtks_period) from snapshots as parts)
),

eligible_reached_in_year as materialized (
    select
        eligible_households.period,
        eligible_households.district_code,
        count(distinct eligible_households.household_key) as eligible_households_reached_ytd
    from eligible_households
    where exists (
            select 1
            from first_paid
            where first_paid.district_code = eligible_households.district_code
                and first_paid.household_key = eligible_households.household_key
                and first_paid.period <= eligible_households.period
                and extract(year from first_paid.period)
                = extract(year from eligible_households.period)
        )
    group by
        eligible_households.period,
        eligible_households.district_code
),

with_every_snapshot as (
    select
        snapshots.period,
        snapshots.district_code,
        coalesce(
            eligible_reached_in_year.eligible_households_reached_ytd, 0
        ) as eligible_households_reached_ytd
    from snapshots
    left join eligible_reached_in_year
        on snapshots.period = eligible_reached_in_year.period
        and snapshots.district_code = eligible_reached_in_year.district_code
)

select
    with_every_snapshot.*,
    {{ built_at() }} as built_at
from with_every_snapshot
