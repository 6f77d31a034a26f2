with

psks_types as (
    select * from {{ ref('psks_types') }}
),

final as (
    select
        psks_code,
        abbreviation,
        name_id,
        name_en,
        unit
    from psks_types
)

select * from final
