with

source as (
    select * from {{ ref('bps_poverty') }}
),

renamed as (
    select
        year,
        district_code,
        poverty_rate_pct,
        poor_population_thousands,
        poverty_line_idr_per_capita_month as poverty_line_idr,
        p1_poverty_gap as p1,
        p2_poverty_severity as p2,
        source as bps_source
    from source
)

select * from renamed
