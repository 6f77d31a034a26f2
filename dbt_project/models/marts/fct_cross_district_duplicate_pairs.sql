-- Possible double payments by district pair: per (period, programme, district, other
-- district), the persons paid by the programme in the period by both districts, with their
-- paid rows and rupiah in `district_code`. Both orders of a pair are rows, so each district
-- reads its own side; a person paid by three districts is in each of their pairs. Only
-- pairs that share at least one person appear (fct_cross_district_duplicates holds the
-- zeros and the totals per programme).
with

-- Only persons paid by two or more districts: the self-join below never sees the (many)
-- persons paid once.
duplicated as (
    select
        period,
        program_code,
        person_key,
        district_code,
        paid_rows,
        amount_idr
    from {{ ref('int_duplicate_payments_aggregated_to_districts') }}
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
