-- The two reach facts describe the same rosters and snapshots: same is_reported,
-- dtks_period and eligible households; households reached by any programme lie between the
-- largest single programme's and the sum over programmes.
with

program_reach as (
    select * from {{ ref('fct_program_reach') }}
),

household_reach as (
    select * from {{ ref('fct_household_reach') }}
),

per_district_period as (
    select
        period,
        district_code,
        min(case when is_reported then 1 else 0 end) as min_reported,
        max(case when is_reported then 1 else 0 end) as max_reported,
        min(dtks_period) as min_dtks_period,
        max(dtks_period) as max_dtks_period,
        max(eligible_households) as eligible_households,
        max(households_reached) as max_households_reached,
        sum(households_reached) as sum_households_reached
    from program_reach
    group by
        period,
        district_code
),

compared as (
    select
        household_reach.period,
        household_reach.district_code
    from household_reach
    inner join per_district_period
        on household_reach.period = per_district_period.period
        and household_reach.district_code = per_district_period.district_code
    where per_district_period.min_reported <> per_district_period.max_reported
        or (case when household_reach.is_reported then 1 else 0 end)
        <> per_district_period.max_reported
        or coalesce(household_reach.dtks_period, cast('1900-01-01' as date))
        <> coalesce(per_district_period.max_dtks_period, cast('1900-01-01' as date))
        or coalesce(household_reach.eligible_households, -1)
        <> coalesce(per_district_period.eligible_households, -1)
        or household_reach.households_reached < per_district_period.max_households_reached
        or household_reach.households_reached > per_district_period.sum_households_reached
)

select * from compared
