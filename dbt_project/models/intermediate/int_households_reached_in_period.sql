-- Households with a paid served row in (period, district), all programmes together: how
-- many, and how many of them eligible in the snapshot in effect. The month's half of
-- fct_household_reach (int_households_reached_ytd is the year's).
with

households_paid as (
    select
        period,
        district_code,
        household_key,
        is_eligible
    from {{ ref('int_households_paid') }}
),

reached_in_period as (
    select
        period,
        district_code,
        count(distinct household_key) as households_reached,
        count(distinct case when is_eligible then household_key end)
            as eligible_households_reached
    from households_paid
    group by
        period,
        district_code
)

select * from reached_in_period
