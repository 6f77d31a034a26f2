-- audit.duplicate_payments lists exactly the persons, rows and rupiah that
-- fct_cross_district_duplicates counts per (period, programme).
with

duplicates as (
    select * from {{ ref('fct_cross_district_duplicates') }}
),

listed as (
    select
        period,
        program_code,
        count(distinct person_key) as duplicate_persons,
        sum(paid_rows) as duplicate_rows,
        sum(amount_idr) as duplicate_amount_idr
    from {{ ref('duplicate_payments') }}
    group by
        period,
        program_code
)

select
    duplicates.period,
    duplicates.program_code,
    duplicates.duplicate_persons,
    listed.duplicate_persons as listed_persons
from duplicates
left join listed
    on duplicates.period = listed.period
    and duplicates.program_code = listed.program_code
where duplicates.duplicate_persons <> coalesce(listed.duplicate_persons, 0)
    or duplicates.duplicate_rows <> coalesce(listed.duplicate_rows, 0)
    or duplicates.duplicate_amount_idr <> coalesce(listed.duplicate_amount_idr, 0)
