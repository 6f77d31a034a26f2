-- Households with at least one paid (`SALUR`) served row, per (period, district, programme),
-- flagged when the household is eligible in the DTKS snapshot in effect for that
-- (period, district). Households are identified by their pseudonymised No. KK.
with

disbursements as (
    select
        period,
        district_code,
        program_code,
        household_key
    from {{ ref('int_disbursements_served') }}
    where is_paid
),

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

households_paid as (
    select distinct
        period,
        district_code,
        program_code,
        household_key
    from disbursements
),

eligibility_in_effect as (
    select
        snapshots.period,
        eligible_households.district_code,
        eligible_households.household_key
    from snapshots
    inner join eligible_households
        on snapshots.district_code = eligible_households.district_code
        and snapshots.dtks_period = eligible_households.dtks_period
),

flagged as (
    select
        households_paid.period,
        households_paid.district_code,
        households_paid.program_code,
        households_paid.household_key,
        eligibility_in_effect.household_key is not null as is_eligible
    from households_paid
    left join eligibility_in_effect
        on households_paid.period = eligibility_in_effect.period
        and households_paid.district_code = eligibility_in_effect.district_code
        and households_paid.household_key = eligibility_in_effect.household_key
)

select * from flagged
