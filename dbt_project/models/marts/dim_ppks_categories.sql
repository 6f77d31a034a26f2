with

ppks_categories as (
    select * from {{ ref('ppks_categories') }}
),

final as (
    select
        ppks_code,
        abbreviation,
        name_id,
        name_en,
        group_2025
    from ppks_categories
)

select * from final
