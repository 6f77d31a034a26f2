-- For every (processed period P, district D) with a DTKS snapshot in effect: how many of the
-- households eligible in *that* snapshot had a paid row in any served roster of D in the
-- processed periods from January of P's year up to P. (Whether P's own roster is served, which
-- makes the figure NULL in the marts, is decided there.)
with

snapshots as (
    select
        period,
        district_code
    from {{ ref('int_dtks_snapshots_carried_forward') }}
    where dtks_period is not null
),

households_paid as (
    select distinct
        period,
        district_code,
        household_key
    from {{ ref('int_households_paid') }}
),

eligible_households as (
    select * from {{ ref('int_dtks_households_in_effect') }}
),

eligible_reached_in_year as (
    select
        eligible_households.period,
        eligible_households.district_code,
        count(distinct households_paid.household_key) as eligible_households_reached_ytd
    from eligible_households
    inner join households_paid
        on eligible_households.district_code = households_paid.district_code
        and eligible_households.household_key = households_paid.household_key
        and households_paid.period <= eligible_households.period
        and extract(year from households_paid.period)
        = extract(year from eligible_households.period)
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

select * from with_every_snapshot
