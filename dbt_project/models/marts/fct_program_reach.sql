-- Reach of each programme per (period, district): who was paid, and how the paid households
-- compare with the DTKS households eligible in the snapshot in effect. Not reported -> NULL
-- measures (except the snapshot's); no snapshot -> NULL for everything eligibility-derived.
with

district_periods as (
    select * from {{ ref('int_district_periods_spined') }}
),

programs as (
    select program_code from {{ ref('dim_programs') }}
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

program_totals as (
    select * from {{ ref('int_disbursements_aggregated_to_programs') }}
),

joined as (
    select
        district_periods.period,
        district_periods.district_code,
        programs.program_code,
        rosters.period is not null as is_reported,
        snapshots.dtks_period is not null as has_snapshot,
        program_totals.recipients,
        program_totals.households_reached,
        program_totals.amount_disbursed_idr,
        program_totals.failed_disbursements,
        program_totals.eligible_households_reached,
        snapshots.dtks_period,
        snapshots.eligible_households
    from district_periods
    cross join programs
    left join rosters
        on district_periods.period = rosters.period
        and district_periods.district_code = rosters.district_code
    left join snapshots
        on district_periods.period = snapshots.period
        and district_periods.district_code = snapshots.district_code
    left join program_totals
        on district_periods.period = program_totals.period
        and district_periods.district_code = program_totals.district_code
        and programs.program_code = program_totals.program_code
),

measured as (
    select
        period,
        district_code,
        program_code,
        is_reported,
        case when is_reported then coalesce(recipients, 0) end as recipients,
        case when is_reported then coalesce(households_reached, 0) end as households_reached,
        case
            when is_reported then coalesce(amount_disbursed_idr, 0)
        end as amount_disbursed_idr,
        case
            when is_reported then coalesce(failed_disbursements, 0)
        end as failed_disbursements,
        dtks_period,
        eligible_households,
        case
            when is_reported and has_snapshot then coalesce(eligible_households_reached, 0)
        end as eligible_households_reached
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
