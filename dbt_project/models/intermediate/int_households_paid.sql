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

eligible_households as (
    select * from {{ ref('int_dtks_households_in_effect') }}
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
    left join eligible_households
        on households_paid.period = eligible_households.period
        and households_paid.district_code = eligible_households.district_code
        and households_paid.household_key = eligible_households.household_key
)

select * from flagged
