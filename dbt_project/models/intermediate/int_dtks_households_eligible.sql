-- Households of each served DTKS snapshot that are eligible for assistance: active (`AKTIF`)
-- and welfare decile <= eligible_max_decile (1 = poorest). A view: the threshold is a
-- setting, so nothing derived from it is stored incrementally.
{{ config(materialized='view') }}

with

dtks_households as (
    select
        period,
        district_code,
        household_key,
        member_count,
        decile,
        is_active
    from {{ ref('int_dtks_households_served') }}
),

eligible as (
    select
        period as dtks_period,
        district_code,
        household_key,
        member_count
    from dtks_households
    where is_active
        and decile <= {{ eligible_max_decile() }}
)

select * from eligible
