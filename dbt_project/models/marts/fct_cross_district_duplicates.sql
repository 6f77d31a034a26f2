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

-- The persons paid by two or more districts, per district, are in the intermediate model
-- (a few thousand rows at province scale): their count, paid rows and rupiah per programme.
duplicate_totals as (
    select
        period,
        program_code,
        count(distinct person_key) as duplicate_persons,
        cast(sum(paid_rows) as bigint) as duplicate_rows,
        sum(amount_idr) as duplicate_amount_idr
    from {{ ref('int_duplicate_payments_aggregated_to_districts') }}
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
