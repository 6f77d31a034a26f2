-- Served `penerima_bantuan` rows per (period, district, programme): persons and households
-- paid, rupiah paid, failed rows, and eligible households reached. Only combinations with at
-- least one served row; the marts add the zeros and NULLs.
with

disbursements as (
    select
        period,
        district_code,
        program_code,
        person_key,
        household_key,
        amount_idr,
        is_paid,
        is_failed
    from {{ ref('int_disbursements_served') }}
),

households_paid as (
    select
        period,
        district_code,
        program_code,
        household_key,
        is_eligible
    from {{ ref('int_households_paid') }}
),

disbursement_totals as (
    select
        period,
        district_code,
        program_code,
        count(distinct case when is_paid then person_key end) as recipients,
        count(distinct case when is_paid then household_key end) as households_reached,
        cast(coalesce(sum(case when is_paid then amount_idr end), 0) as bigint)
            as amount_disbursed_idr,
        count(case when is_failed then 1 end) as failed_disbursements
    from disbursements
    group by
        period,
        district_code,
        program_code
),

eligible_reached as (
    select
        period,
        district_code,
        program_code,
        count(distinct household_key) as eligible_households_reached
    from households_paid
    where is_eligible
    group by
        period,
        district_code,
        program_code
),

aggregated as (
    select
        disbursement_totals.*,
        coalesce(eligible_reached.eligible_households_reached, 0)
            as eligible_households_reached
    from disbursement_totals
    left join eligible_reached
        on disbursement_totals.period = eligible_reached.period
        and disbursement_totals.district_code = eligible_reached.district_code
        and disbursement_totals.program_code = eligible_reached.program_code
)

select * from aggregated
