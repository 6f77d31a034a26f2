-- Reach never exceeds what it is counted from: eligible households reached <= eligible
-- households and <= households reached; households reached <= recipients (every paid
-- household has a paid member); year-to-date >= the month and <= eligible.
with

program_reach as (
    select * from {{ ref('fct_program_reach') }}
),

household_reach as (
    select * from {{ ref('fct_household_reach') }}
),

program_violations as (
    select
        'fct_program_reach' as model_name,
        period,
        district_code,
        program_code as detail
    from program_reach
    where eligible_households_reached > eligible_households
        or eligible_households_reached > households_reached
        or households_reached > recipients
),

household_violations as (
    select
        'fct_household_reach' as model_name,
        period,
        district_code,
        cast(null as varchar) as detail
    from household_reach
    where eligible_households_reached > eligible_households
        or eligible_households_reached > households_reached
        or eligible_households_reached_ytd < eligible_households_reached
        or eligible_households_reached_ytd > eligible_households
        or unreached_eligible_households < 0
)

select * from program_violations
union all
select * from household_violations
