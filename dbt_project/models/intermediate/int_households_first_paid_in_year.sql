-- For every (processed period P, district D): the households D paid in P (a paid served row)
-- and in no earlier month of P's year. Each household a district pays in a year has one row,
-- in the month it was first paid, so the households paid from January to P are the rows of
-- January to P: what int_households_reached_ytd counts, reading about one month's households
-- instead of every paid row of the year (households are paid month after month: at a fifth
-- of a province, 155,680 households over 11 months against 2.57 M paid rows;
-- docs/performance.md).
--
-- Incremental by (P, D) with the year-to-date fingerprint (macros/reach_inputs.sql): a
-- correction of a month recomputes that month and the later ones of its year. The households
-- paid before the first month recomputed are this table's own rows of those months (still
-- current, since their fingerprints did not change); from that month on, the paid rows.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ record_district_periods_to_compute(year_to_date=true) }}",
    )
}}

with

to_compute as {{ district_periods_to_compute(year_to_date=true) }},

bounds as (
    select
        min(to_compute.period) as first_period,
        cast(date_trunc('year', min(to_compute.period)) as date) as first_january
    from to_compute
),

-- the households paid in the months recomputed (constant lower bounds: only the newest
-- blocks are read, macros/planner_statistics.sql)
paid_in_month as (
    select distinct
        paid.period,
        paid.district_code,
        paid.household_key
    from {{ ref('int_households_paid') }} as paid
    inner join to_compute
        on paid.period = to_compute.period
        and paid.district_code = to_compute.district_code
    where paid.period >= (select bounds.first_period from bounds)
),

-- every household paid earlier in the year, as far as it matters: in its first month where
-- that month is kept in this table (its inputs did not change), in the month recomputed
-- otherwise
paid_before as (
    select * from paid_in_month
    {{ union_rows_kept(
        ['period', 'district_code', 'household_key'],
        'kept.period >= (select bounds.first_january from bounds)'
        ~ ' and kept.period < (select bounds.first_period from bounds)'
    ) }}
),

first_paid as (
    select
        paid_in_month.period,
        paid_in_month.district_code,
        paid_in_month.household_key
    from paid_in_month
    where not exists (
            select 1
            from paid_before
            where paid_before.district_code = paid_in_month.district_code
                and paid_before.household_key = paid_in_month.household_key
                and paid_before.period < paid_in_month.period
                and extract(year from paid_before.period)
                = extract(year from paid_in_month.period)
        )
)

select
    first_paid.*,
    {{ built_at() }} as built_at
from first_paid
