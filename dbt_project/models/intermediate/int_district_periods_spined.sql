-- Every processed period × every one of the 38 districts: the spine every fact is built on,
-- so that a district that sent nothing still has its row.
with

processed_periods as (
    select period from {{ ref('stg_audit__processed_periods') }}
),

districts as (
    select district_code from {{ ref('districts') }}
),

spined as (
    select
        processed_periods.period,
        districts.district_code
    from processed_periods
    cross join districts
)

select * from spined
