-- For every (processed period P, district D): the DTKS snapshot in effect, i.e. the served
-- `dtks` of the latest period <= P (a district need not send it every month), with its
-- eligible households and their members. No snapshot yet -> dtks_period and the counts are
-- NULL; a snapshot in which nobody is eligible -> 0.
with

district_periods as (
    select * from {{ ref('int_district_periods_spined') }}
),

-- one row per served snapshot, counted once (incremental)
served_snapshots as (
    select
        period as dtks_period,
        district_code,
        eligible_households,
        eligible_individuals
    from {{ ref('int_dtks_households_aggregated_to_snapshots') }}
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
        served_snapshots.eligible_households,
        served_snapshots.eligible_individuals
    from snapshot_in_effect
    left join served_snapshots
        on snapshot_in_effect.district_code = served_snapshots.district_code
        and snapshot_in_effect.dtks_period = served_snapshots.dtks_period
)

select * from carried_forward
