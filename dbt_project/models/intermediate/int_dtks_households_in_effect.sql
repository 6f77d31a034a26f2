-- The eligible households of the DTKS snapshot in effect for every (processed period P,
-- district) that has one: who counts as eligible in P, whichever month the snapshot is from.
-- A view, like the eligibility it is built on.
{{ config(materialized='view') }}

with

snapshots as (
    select
        period,
        district_code,
        dtks_period
    from {{ ref('int_dtks_snapshots_carried_forward') }}
    where dtks_period is not null
),

eligible_households as (
    select
        dtks_period,
        district_code,
        household_key
    from {{ ref('int_dtks_households_eligible') }}
),

in_effect as (
    select
        snapshots.period,
        snapshots.district_code,
        eligible_households.household_key
    from snapshots
    inner join eligible_households
        on snapshots.district_code = eligible_households.district_code
        and snapshots.dtks_period = eligible_households.dtks_period
)

select * from in_effect
