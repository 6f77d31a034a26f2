-- For every (processed period P, district D): the DTKS snapshot in effect, i.e. the served
-- `dtks` of the latest period <= P (a district need not send it every month), with its
-- eligible households and their members. No snapshot yet -> dtks_period and the counts are
-- NULL; a snapshot in which nobody is eligible -> 0.
with

district_periods as (
    select * from {{ ref('int_district_periods_spined') }}
),

served_snapshots as (
    select
        period as dtks_period,
        district_code
    from {{ ref('int_file_versions_served') }}
    where dataset = 'dtks'
),

eligible_households as (
    select * from {{ ref('int_dtks_households_eligible') }}
),

eligible_per_snapshot as (
    select
        dtks_period,
        district_code,
        count(distinct household_key) as eligible_households,
        sum(member_count) as eligible_individuals
    from eligible_households
    group by
        dtks_period,
        district_code
),

snapshot_in_effect as (
    select
        district_periods.period,
        district_periods.district_code,
        max(served_snapshots.dtks_period) as dtks_period
    from district_periods
    left join served_snapshots
        on district_periods.district_code = served_snapshots.district_code
        and served_snapshots.dtks_period <= district_periods.period
    group by
        district_periods.period,
        district_periods.district_code
),

carried_forward as (
    select
        snapshot_in_effect.period,
        snapshot_in_effect.district_code,
        snapshot_in_effect.dtks_period,
        case
            when snapshot_in_effect.dtks_period is not null
                then coalesce(eligible_per_snapshot.eligible_households, 0)
        end as eligible_households,
        case
            when snapshot_in_effect.dtks_period is not null
                then cast(coalesce(eligible_per_snapshot.eligible_individuals, 0) as bigint)
        end as eligible_individuals
    from snapshot_in_effect
    left join eligible_per_snapshot
        on snapshot_in_effect.district_code = eligible_per_snapshot.district_code
        and snapshot_in_effect.dtks_period = eligible_per_snapshot.dtks_period
)

select * from carried_forward
