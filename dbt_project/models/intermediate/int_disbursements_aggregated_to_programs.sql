-- Served `penerima_bantuan` rows per (period, district, programme): persons and households
-- paid, rupiah paid, failed rows, and eligible households reached. Only combinations with at
-- least one served row; the marts add the zeros and NULLs.
--
-- Incremental like int_households_paid (macros/reach_inputs.sql): only the (period, district)
-- pairs whose inputs changed are recomputed. No count(distinct): persons are made distinct
-- first, and households are counted on int_households_paid, already one row per household.
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

disbursements as (
    select
        served.period,
        served.district_code,
        served.program_code,
        served.person_key,
        served.amount_idr,
        served.is_paid,
        served.is_failed
    from {{ ref('int_disbursements_served') }} as served
    inner join to_compute
        on served.period = to_compute.period
        and served.district_code = to_compute.district_code
    -- a constant lower bound: only the newest blocks are read (macros/planner_statistics.sql)
    where served.period >= (select min(parts.period) from to_compute as parts)
),

households_paid as (
    select
        paid.period,
        paid.district_code,
        paid.program_code,
        paid.household_key,
        paid.is_eligible
    from {{ ref('int_households_paid') }} as paid
    inner join to_compute
        on paid.period = to_compute.period
        and paid.district_code = to_compute.district_code
    where paid.period >= (select min(parts.period) from to_compute as parts)
),

disbursement_totals as (
    select
        period,
        district_code,
        program_code,
        cast(coalesce(sum(case when is_paid then amount_idr end), 0) as bigint)
            as amount_disbursed_idr,
        count(case when is_failed then 1 end) as failed_disbursements
    from disbursements
    group by
        period,
        district_code,
        program_code
),

persons_paid as (
    select distinct
        period,
        district_code,
        program_code,
        person_key
    from disbursements
    where is_paid
        and person_key is not null
),

recipients as (
    select
        period,
        district_code,
        program_code,
        count(*) as recipients
    from persons_paid
    group by
        period,
        district_code,
        program_code
),

households_reached as (
    select
        period,
        district_code,
        program_code,
        count(household_key) as households_reached,
        count(case when is_eligible then household_key end) as eligible_households_reached
    from households_paid
    group by
        period,
        district_code,
        program_code
),

aggregated as (
    select
        disbursement_totals.period,
        disbursement_totals.district_code,
        disbursement_totals.program_code,
        coalesce(recipients.recipients, 0) as recipients,
        coalesce(households_reached.households_reached, 0) as households_reached,
        disbursement_totals.amount_disbursed_idr,
        disbursement_totals.failed_disbursements,
        coalesce(households_reached.eligible_households_reached, 0)
            as eligible_households_reached
    from disbursement_totals
    left join recipients
        on disbursement_totals.period = recipients.period
        and disbursement_totals.district_code = recipients.district_code
        and disbursement_totals.program_code = recipients.program_code
    left join households_reached
        on disbursement_totals.period = households_reached.period
        and disbursement_totals.district_code = households_reached.district_code
        and disbursement_totals.program_code = households_reached.program_code
)

select
    aggregated.*,
    {{ built_at() }} as built_at
from aggregated
