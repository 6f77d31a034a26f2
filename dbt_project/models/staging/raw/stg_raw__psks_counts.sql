with

source as (
    select * from {{ source('raw', 'psks') }}
),

renamed as (
    select
        _period as period,
        _district_code as district_code,
        _version as version,
        _row_number as file_row_number,
        kode_psks as psks_code,
        jumlah as resource_count
    from source
)

select * from renamed
