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

-- One pass over the paid rows: per person, whether two or more districts paid them (the
-- smallest and largest district differ, i.e. count(distinct district_code) >= 2), with their
-- rows and rupiah; no second pass joining the duplicated persons back to their rows.
paid_persons as (
    select
        period,
        program_code,
        person_key,
        min(district_code) <> max(district_code) as is_duplicate,
        count(*) as paid_rows,
        sum(amount_idr) as amount_idr
    from {{ ref('int_person_payments_filtered_to_paid') }}
    group by
        period,
        program_code,
        person_key
),

duplicate_totals as (
    select
        period,
        program_code,
        count(*) as duplicate_persons,
        cast(sum(paid_rows) as bigint) as duplicate_rows,
        sum(amount_idr) as duplicate_amount_idr
    from paid_persons
    where is_duplicate
    group by
        period,
        program_code
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
