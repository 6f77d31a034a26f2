-- Paid rows of identified persons summed per (period, programme, person, district): what
-- both double-payment models start from (fct_cross_district_duplicate_pairs pairs the
-- districts, audit.duplicate_payments lists them). The district's served version and the
-- row numbers in its file say where an auditor finds the rows. A view: each reader scans
-- the paid rows once.
{{ config(materialized='view') }}

with

paid as (
    select * from {{ ref('int_person_payments_filtered_to_paid') }}
),

aggregated as (
    select
        period,
        program_code,
        person_key,
        district_code,
        version,
        count(*) as paid_rows,
        sum(amount_idr) as amount_idr,
        {{ listagg_ordered('file_row_number') }} as file_row_numbers
    from paid
    group by
        period,
        program_code,
        person_key,
        district_code,
        version
)

select * from aggregated
