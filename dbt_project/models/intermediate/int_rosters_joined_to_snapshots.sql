-- For every (processed period, district): whether its `penerima_bantuan` roster is served,
-- and the DTKS snapshot in effect with its eligible households. The common base of the two
-- reach facts.
with

rosters as (
    select
        period,
        district_code,
        is_reported
    from {{ ref('int_submissions_spined') }}
    where dataset = 'penerima_bantuan'
),

snapshots as (
    select
        period,
        district_code,
        dtks_period,
        eligible_households
    from {{ ref('int_dtks_snapshots_carried_forward') }}
),

joined as (
    select
        rosters.period,
        rosters.district_code,
        rosters.is_reported,
        snapshots.dtks_period is not null as has_snapshot,
        snapshots.dtks_period,
        snapshots.eligible_households
    from rosters
    left join snapshots
        on rosters.period = snapshots.period
        and rosters.district_code = snapshots.district_code
)

select * from joined
