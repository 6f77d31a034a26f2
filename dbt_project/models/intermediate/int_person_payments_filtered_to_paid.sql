-- Paid (`SALUR`) served roster rows of identified persons: what is compared across
-- districts for double payments (a row without a valid NIK has no person key and cannot be
-- a double payment). A view: int_duplicate_payments_aggregated_to_districts reads it once.
{{ config(materialized='view') }}

with

paid as (
    select
        period,
        district_code,
        version,
        file_row_number,
        program_code,
        person_key,
        amount_idr
    from {{ ref('int_disbursements_served') }}
    where is_paid
        and person_key is not null
)

select * from paid
