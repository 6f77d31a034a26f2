with

districts as (
    select * from {{ ref('districts') }}
),

final as (
    select
        district_code,
        kemendagri_code,
        district_name,
        district_type,
        registered_population_2025
    from districts
)

select * from final
