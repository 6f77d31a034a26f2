with

source as (
    select * from {{ source('audit', 'inbox_notices') }}
),

renamed as (
    select
        period,
        path as inbox_path,
        notice_code,
        detail
    from source
)

select * from renamed
