-- All programmes together per (period, district): the eligible households no programme
-- reached in the month and since January. Not reported -> NULL measures (except the
-- snapshot's); no snapshot -> NULL for everything eligibility-derived.
with

district_periods as (
    select * from {{ ref('int_district_periods_spined') }}
),

rosters as (
    select
        period,
        district_code
    from {{ ref('int_file_versions_served') }}
    where dataset = 'penerima_bantuan'
),

snapshots as (
    select * from {{ ref('int_dtks_snapshots_carried_forward') }}
),

households_paid as (
    select * from {{ ref('int_households_paid') }}
),

reached_ytd as (
    select * from {{ ref('int_households_reached_ytd') }}
),

reached_in_period as (
    select
        period,
        district_code,
        count(distinct household_key) as households_reached,
        count(distinct case when is_eligible then household_key end)
            as eligible_households_reached
    from households_paid
    group by
        period,
        district_code
),

joined as (
    select
        district_periods.period,
        district_periods.district_code,
        rosters.period is not null as is_reported,
        snapshots.dtks_period is not null as has_snapshot,
        snapshots.dtks_period,
        snapshots.eligible_households,
        reached_in_period.households_reached,
        reached_in_period.eligible_households_reached,
        reached_ytd.eligible_households_reached_ytd
    from district_periods
    left join rosters
        on district_periods.period = rosters.period
        and district_periods.district_code = rosters.district_code
    left join snapshots
        on district_periods.period = snapshots.period
        and district_periods.district_code = snapshots.district_code
    left join reached_in_period
        on district_periods.period = reached_in_period.period
        and district_periods.district_code = reached_in_period.district_code
    left join reached_ytd
        on district_periods.period = reached_ytd.period
        and district_periods.district_code = reached_ytd.district_code
),

measured as (
    select
        period,
        district_code,
        is_reported,
        dtks_period,
        eligible_households,
        case when is_reported then coalesce(households_reached, 0) end as households_reached,
        case
            when is_reported and has_snapshot then coalesce(eligible_households_reached, 0)
        end as eligible_households_reached,
        case
            when is_reported and has_snapshot
                then coalesce(eligible_households_reached_ytd, 0)
        end as eligible_households_reached_ytd
    from joined
),

final as (
    select
        period,
        district_code,
        is_reported,
        dtks_period,
        eligible_households,
        households_reached,
        eligible_households_reached,
        eligible_households - eligible_households_reached as unreached_eligible_households,
        {{ fraction('eligible_households - eligible_households_reached', 'eligible_households') }}
            as unreached_rate,
        eligible_households_reached_ytd,
        1 - {{ fraction('eligible_households_reached_ytd', 'eligible_households') }}
            as unreached_rate_ytd
    from measured
)

select * from final
