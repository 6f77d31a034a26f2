with

source as (
    select * from {{ source('audit', 'row_warnings') }}
),

renamed as (
    select
        period,
        district_code,
        dataset,
        version,
        row_number as file_row_number,
        warning_code
    from source
)

select * from renamed
