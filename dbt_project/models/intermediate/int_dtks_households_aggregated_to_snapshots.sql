-- Every served DTKS snapshot (period, district) with its eligible households and their
-- members (0 when nobody is eligible): what int_dtks_snapshots_carried_forward carries forward
-- to the later periods.
--
-- Incremental: a snapshot is counted when it is first served and again only when its served
-- version or the eligibility threshold changes (macros/reach_inputs.sql), not every month over
-- every snapshot of the history (at a fifth of a province the recount read ~2.4 M households by
-- month 11, 1.2 s a build and growing: docs/performance.md).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ record_inputs_to_compute(snapshot_inputs(), ['period', 'district_code']) }}",
    )
}}

with

to_compute as {{ inputs_to_compute(snapshot_inputs()) }},

eligible_households as (
    select
        eligible.dtks_period as period,
        eligible.district_code,
        eligible.household_key,
        eligible.member_count
    from {{ ref('int_dtks_households_eligible') }} as eligible
    inner join to_compute
        on eligible.dtks_period = to_compute.period
        and eligible.district_code = to_compute.district_code
    -- a constant lower bound: only the newest blocks are read (macros/planner_statistics.sql)
    where eligible.dtks_period >= (select min(parts.period) from to_compute as parts)
),

-- every snapshot to count gets a row, 0 when nobody in it is eligible
counted as (
    select
        to_compute.period,
        to_compute.district_code,
        count(distinct eligible_households.household_key) as eligible_households,
        cast(coalesce(sum(eligible_households.member_count), 0) as bigint)
            as eligible_individuals
    from to_compute
    left join eligible_households
        on to_compute.period = eligible_households.period
        and to_compute.district_code = eligible_households.district_code
    group by
        to_compute.period,
        to_compute.district_code
)

select
    counted.*,
    {{ built_at() }} as built_at
from counted
