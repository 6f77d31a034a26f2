with

source as (
    select * from {{ source('raw', 'ppks') }}
),

renamed as (
    select
        _period as period,
        _district_code as district_code,
        _version as version,
        _row_number as file_row_number,
        kode_kecamatan as subdistrict_code,
        kode_ppks as ppks_code,
        lokasi as location,
        jumlah_laki_laki as male_count,
        jumlah_perempuan as female_count,
        jumlah as total_count
    from source
)

select * from renamed
