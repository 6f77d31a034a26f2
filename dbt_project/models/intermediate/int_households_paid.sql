-- Households with at least one paid (`SALUR`) served row, per (period, district, programme),
-- flagged when the household is eligible in the DTKS snapshot in effect for that
-- (period, district). Households are identified by their pseudonymised No. KK.
--
-- Incremental: only the (period, district) pairs whose roster, snapshot in effect or
-- eligibility threshold changed are recomputed (macros/reach_inputs.sql), so a month's
-- build does not redo every earlier month. The flag is looked up through the snapshot in
-- effect and that snapshot's eligible households. Planned without sorts on PostgreSQL
-- (macros/planner_statistics.sql: the distinct paid households were sorted by their key).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=[
            "{{ plan_without('sort') }}",
            "{{ record_district_periods_to_compute() }}",
        ],
    )
}}

with

to_compute as {{ district_periods_to_compute() }},

disbursements as (
    select
        served.period,
        served.district_code,
        served.program_code,
        served.household_key
    from {{ ref('int_disbursements_served') }} as served
    inner join to_compute
        on served.period = to_compute.period
        and served.district_code = to_compute.district_code
    -- a constant lower bound: only the newest blocks are read (macros/planner_statistics.sql)
    where
        served.is_paid
        and served.period >= (select min(parts.period) from to_compute as parts)
),

-- the snapshots in effect for the (period, district) pairs computed
snapshots as {{ snapshots_in_effect('to_compute') }},

-- their eligible households: a constant lower bound, the oldest of those snapshots, so only
-- the newest blocks of the served DTKS rows are read, not every snapshot of the history
eligible_households as (
    select
        dtks_period,
        district_code,
        household_key
    from {{ ref('int_dtks_households_eligible') }}
    where dtks_period >= (select min(snapshots.dtks_period) from snapshots)
),

households_paid as (
    select distinct
        period,
        district_code,
        program_code,
        household_key
    from disbursements
),

flagged as (
    select
        households_paid.period,
        households_paid.district_code,
        households_paid.program_code,
        households_paid.household_key,
        eligible_households.household_key is not null as is_eligible
    from households_paid
    left join snapshots
        on households_paid.period = snapshots.period
        and households_paid.district_code = snapshots.district_code
    left join eligible_households
        on snapshots.dtks_period = eligible_households.dtks_period
        and snapshots.district_code = eligible_households.district_code
        and households_paid.household_key = eligible_households.household_key
)

select
    flagged.*,
    {{ built_at() }} as built_at
from flagged
