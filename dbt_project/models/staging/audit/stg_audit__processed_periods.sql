with

source as (
    select * from {{ source('audit', 'processed_periods') }}
),

renamed as (
    select
        period,
        first_processed_at
    from source
)

select * from renamed
