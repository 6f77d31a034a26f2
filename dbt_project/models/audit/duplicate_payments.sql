-- The persons behind marts.fct_cross_district_duplicates, for auditors: one row per
-- (period, programme, person, district) for every person paid by the same programme in the
-- same period by two or more districts. The person is the pseudonymised NIK (`person_key`,
-- an HMAC: never the NIK itself); the district's served version and the row numbers in its
-- file say where to look. BI roles cannot read the `audit` schema.
with

paid_in_district as (
    select * from {{ ref('int_duplicate_payments_aggregated_to_districts') }}
),

-- Every person here is paid by two or more districts (the intermediate model keeps only them).
districts_per_person as (
    select
        period,
        program_code,
        person_key,
        count(*) as paying_districts,
        sum(amount_idr) as person_amount_idr
    from paid_in_district
    group by
        period,
        program_code,
        person_key
),

final as (
    select
        paid_in_district.period,
        paid_in_district.program_code,
        paid_in_district.person_key,
        paid_in_district.district_code,
        paid_in_district.version,
        cast(paid_in_district.paid_rows as integer) as paid_rows,
        cast(paid_in_district.amount_idr as bigint) as amount_idr,
        paid_in_district.file_row_numbers,
        cast(districts_per_person.paying_districts as integer) as paying_districts,
        cast(districts_per_person.person_amount_idr as bigint) as person_amount_idr
    from paid_in_district
    inner join districts_per_person
        on paid_in_district.period = districts_per_person.period
        and paid_in_district.program_code = districts_per_person.program_code
        and paid_in_district.person_key = districts_per_person.person_key
)

select * from final
