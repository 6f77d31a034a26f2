-- Possible double payments by district pair: per (period, programme, district, other
-- district), the persons paid by the programme in the period by both districts, with their
-- paid rows and rupiah in `district_code`. Both orders of a pair are rows, so each district
-- reads its own side; a person paid by three districts is in each of their pairs. Only
-- pairs that share at least one person appear (fct_cross_district_duplicates holds the
-- zeros and the totals per programme).
with

paid_in_district as (
    select
        period,
        program_code,
        person_key,
        district_code,
        paid_rows,
        amount_idr
    from {{ ref('int_person_payments_aggregated_to_districts') }}
),

-- Persons paid by a programme in two or more districts: the pairs are formed among these
-- only, so the self-join below never sees the (many) persons paid once.
paid_in_several as (
    select
        period,
        program_code,
        person_key
    from paid_in_district
    group by
        period,
        program_code,
        person_key
    having count(*) > 1
),

duplicated as (
    select paid_in_district.*
    from paid_in_district
    inner join paid_in_several
        on paid_in_district.period = paid_in_several.period
        and paid_in_district.program_code = paid_in_several.program_code
        and paid_in_district.person_key = paid_in_several.person_key
),

persons_paired as (
    select
        here.period,
        here.program_code,
        here.district_code,
        there.district_code as other_district_code,
        here.paid_rows,
        here.amount_idr
    from duplicated as here
    inner join duplicated as there
        on here.period = there.period
        and here.program_code = there.program_code
        and here.person_key = there.person_key
        and here.district_code <> there.district_code
),

final as (
    select
        period,
        program_code,
        district_code,
        other_district_code,
        count(*) as duplicate_persons,
        cast(sum(paid_rows) as bigint) as duplicate_rows,
        cast(sum(amount_idr) as bigint) as duplicate_amount_idr
    from persons_paired
    group by
        period,
        program_code,
        district_code,
        other_district_code
)

select * from final
