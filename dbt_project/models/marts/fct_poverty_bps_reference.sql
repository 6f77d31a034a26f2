-- Which BPS figures fct_poverty shows, and from where: one row per row of fct_poverty
-- (year, district). fct_poverty takes the BPS figures of its own year only (spec), so an
-- empty poverty rate there is either "no BPS row for this year" or "a BPS row with the rate
-- unknown"; `bps_status` says which, and `bps_source` where the figures came from.
-- A separate mart because the spec's fct_poverty keeps exactly its published columns.
with

poverty as (
    select
        year,
        district_code,
        poverty_rate_pct
    from {{ ref('fct_poverty') }}
),

bps_poverty as (
    select
        year,
        district_code,
        source as bps_source
    from {{ ref('bps_poverty') }}
),

final as (
    select
        poverty.year,
        poverty.district_code,
        bps_poverty.year as bps_reference_year,
        bps_poverty.bps_source,
        case
            when bps_poverty.year is null then 'no BPS figure for this year'
            when poverty.poverty_rate_pct is null then 'BPS row without a poverty rate'
            else 'BPS figures of this year'
        end as bps_status
    from poverty
    left join bps_poverty
        on poverty.year = bps_poverty.year
        and poverty.district_code = bps_poverty.district_code
)

select * from final
