-- Reach of each programme per (period, district): who was paid, and how the paid households
-- compare with the DTKS households eligible in the snapshot in effect. Not reported -> NULL
-- measures (except the snapshot's); no snapshot -> NULL for everything eligibility-derived.
with

rosters as (
    select * from {{ ref('int_rosters_joined_to_snapshots') }}
),

programs as (
    select program_code from {{ ref('dim_programs') }}
),

program_totals as (
    select * from {{ ref('int_disbursements_aggregated_to_programs') }}
),

joined as (
    select
        rosters.period,
        rosters.district_code,
        programs.program_code,
        rosters.is_reported,
        rosters.has_snapshot,
        program_totals.recipients,
        program_totals.households_reached,
        program_totals.amount_disbursed_idr,
        program_totals.failed_disbursements,
        program_totals.eligible_households_reached,
        rosters.dtks_period,
        rosters.eligible_households
    from rosters
    cross join programs
    left join program_totals
        on rosters.period = program_totals.period
        and rosters.district_code = program_totals.district_code
        and programs.program_code = program_totals.program_code
),

measured as (
    select
        period,
        district_code,
        program_code,
        is_reported,
        {{ measure_if_reported('recipients') }} as recipients,
        {{ measure_if_reported('households_reached') }} as households_reached,
        {{ measure_if_reported('amount_disbursed_idr') }} as amount_disbursed_idr,
        {{ measure_if_reported('failed_disbursements') }} as failed_disbursements,
        dtks_period,
        eligible_households,
        {{ measure_if_reported('eligible_households_reached', 'is_reported and has_snapshot') }}
            as eligible_households_reached
    from joined
),

final as (
    select
        period,
        district_code,
        program_code,
        is_reported,
        recipients,
        households_reached,
        amount_disbursed_idr,
        failed_disbursements,
        dtks_period,
        eligible_households,
        eligible_households_reached,
        {{ fraction('eligible_households_reached', 'eligible_households') }}
            as coverage_rate,
        {{ fraction('households_reached - eligible_households_reached', 'households_reached') }}
            as inclusion_error_rate
    from measured
)

select * from final
