-- All programmes together per (period, district): the eligible households no programme
-- reached in the month and since January. Not reported -> NULL measures (except the
-- snapshot's); no snapshot -> NULL for everything eligibility-derived.
with

rosters as (
    select * from {{ ref('int_rosters_joined_to_snapshots') }}
),

reached_ytd as (
    select * from {{ ref('int_households_reached_ytd') }}
),

reached_in_period as (
    select * from {{ ref('int_households_reached_in_period') }}
),

measured as (
    select
        rosters.period,
        rosters.district_code,
        rosters.is_reported,
        rosters.dtks_period,
        rosters.eligible_households,
        {{ measure_if_reported('reached_in_period.households_reached', 'rosters.is_reported') }}
            as households_reached,
        {{ measure_if_reported(
            'reached_in_period.eligible_households_reached',
            'rosters.is_reported and rosters.has_snapshot',
        ) }} as eligible_households_reached,
        {{ measure_if_reported(
            'reached_ytd.eligible_households_reached_ytd',
            'rosters.is_reported and rosters.has_snapshot',
        ) }} as eligible_households_reached_ytd
    from rosters
    left join reached_in_period
        on rosters.period = reached_in_period.period
        and rosters.district_code = reached_in_period.district_code
    left join reached_ytd
        on rosters.period = reached_ytd.period
        and rosters.district_code = reached_ytd.district_code
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
