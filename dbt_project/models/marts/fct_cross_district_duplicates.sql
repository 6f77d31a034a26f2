-- Possible double payments per (period, programme): persons paid by the same programme in
-- the same period by two or more districts, their paid rows and the rupiah on those rows.
-- Zero (not NULL) when there are none: every district's served roster takes part.
with

processed_periods as (
    select period from {{ ref('stg_audit__processed_periods') }}
),

programs as (
    select program_code from {{ ref('dim_programs') }}
),

paid_rows as (
    select
        period,
        program_code,
        person_key,
        district_code,
        amount_idr
    from {{ ref('int_disbursements_served') }}
    where is_paid
),

duplicated_persons as (
    select
        period,
        program_code,
        person_key
    from paid_rows
    group by
        period,
        program_code,
        person_key
    having count(distinct district_code) >= 2
),

duplicate_totals as (
    select
        paid_rows.period,
        paid_rows.program_code,
        count(distinct paid_rows.person_key) as duplicate_persons,
        count(*) as duplicate_rows,
        sum(paid_rows.amount_idr) as duplicate_amount_idr
    from paid_rows
    inner join duplicated_persons
        on paid_rows.period = duplicated_persons.period
        and paid_rows.program_code = duplicated_persons.program_code
        and paid_rows.person_key = duplicated_persons.person_key
    group by
        paid_rows.period,
        paid_rows.program_code
),

final as (
    select
        processed_periods.period,
        programs.program_code,
        coalesce(duplicate_totals.duplicate_persons, 0) as duplicate_persons,
        coalesce(duplicate_totals.duplicate_rows, 0) as duplicate_rows,
        cast(coalesce(duplicate_totals.duplicate_amount_idr, 0) as bigint)
            as duplicate_amount_idr
    from processed_periods
    cross join programs
    left join duplicate_totals
        on processed_periods.period = duplicate_totals.period
        and programs.program_code = duplicate_totals.program_code
)

select * from final
