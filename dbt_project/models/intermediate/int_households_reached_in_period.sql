-- Households with a paid served row in (period, district), all programmes together: how
-- many, and how many of them eligible in the snapshot in effect. The month's half of
-- fct_household_reach (int_households_reached_ytd is the year's).
--
-- Incremental like int_households_paid, from the same inputs (macros/reach_inputs.sql): only
-- the (period, district) pairs whose paid households were recomputed are counted again, so a
-- month's build does not recount every earlier month.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ record_district_periods_to_compute() }}",
    )
}}

with

to_compute as {{ district_periods_to_compute() }},

households_paid as (
    select
        paid.period,
        paid.district_code,
        paid.household_key,
        paid.is_eligible
    from {{ ref('int_households_paid') }} as paid
    inner join to_compute
        on paid.period = to_compute.period
        and paid.district_code = to_compute.district_code
    -- a constant lower bound: only the newest blocks are read (macros/planner_statistics.sql)
    where paid.period >= (select min(parts.period) from to_compute as parts)
),

reached_in_period as (
    select
        period,
        district_code,
        count(distinct household_key) as households_reached,
        count(distinct case when is_eligible then household_key end)
            as eligible_households_reached
    from households_paid
    group by
        period,
        district_code
)

select
    reached_in_period.*,
    {{ built_at() }} as built_at
from reached_in_period
