with

programs as (
    select * from {{ ref('programs') }}
),

final as (
    select
        program_code,
        name_id,
        name_en,
        funded_by,
        benefit_unit,
        max_amount_per_disbursement_idr
    from programs
)

select * from final
