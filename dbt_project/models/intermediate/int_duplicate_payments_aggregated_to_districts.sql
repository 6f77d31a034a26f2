-- Persons paid by the same programme in the same period by two or more districts, their
-- paid rows summed per district: what all three double-payment models read
-- (fct_cross_district_duplicates, fct_cross_district_duplicate_pairs,
-- audit.duplicate_payments). The district's served version and the row numbers in its
-- file say where an auditor finds the rows.
--
-- A small table, built in one pass over the paid rows: the persons paid by several districts
-- are found first (a grouping on three columns, no row numbers), and only their rows are
-- aggregated with the row-number list. At province scale that is a few thousand of ~1.8 M
-- rows; before, each of the three models aggregated all paid rows per district, row-number
-- lists included, on its own (docs/performance.md).
--
-- Incremental by period (macros/period_inputs.sql): a period is computed again only when the
-- served roster of one of its districts changed, so a month's build looks at that month's
-- paid rows, not the whole history's.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ record_inputs_to_compute(roster_inputs(), ['period']) }}",
    )
}}
with

to_compute as {{ inputs_to_compute(roster_inputs()) }},

paid as (
    select
        paid.period,
        paid.program_code,
        paid.person_key,
        paid.district_code,
        paid.version,
        paid.file_row_number,
        paid.amount_idr
    from {{ ref('int_person_payments_filtered_to_paid') }} as paid
    inner join to_compute
        on paid.period = to_compute.period
    -- a constant lower bound: only the newest blocks are read (macros/planner_statistics.sql)
    where paid.period >= (select min(parts.period) from to_compute as parts)
),

-- A person is paid by several districts when the smallest and largest district differ
-- (count(distinct district_code) >= 2 without the distinct).
paid_by_several as (
    select
        period,
        program_code,
        person_key
    from paid
    group by
        period,
        program_code,
        person_key
    having min(district_code) <> max(district_code)
),

aggregated as (
    select
        paid.period,
        paid.program_code,
        paid.person_key,
        paid.district_code,
        paid.version,
        count(*) as paid_rows,
        sum(paid.amount_idr) as amount_idr,
        {{ listagg_ordered('paid.file_row_number') }} as file_row_numbers
    from paid
    inner join paid_by_several
        on paid.period = paid_by_several.period
        and paid.program_code = paid_by_several.program_code
        and paid.person_key = paid_by_several.person_key
    group by
        paid.period,
        paid.program_code,
        paid.person_key,
        paid.district_code,
        paid.version
)

select
    aggregated.*,
    {{ built_at() }} as built_at
from aggregated
