with

source as (
    select * from {{ source('raw', 'dtks') }}
),

renamed as (
    select
        _period as period,
        _district_code as district_code,
        _version as version,
        _row_number as file_row_number,
        no_kk_hmac as household_key,
        nik_kepala_keluarga_hmac as head_person_key,
        kode_desa as village_code,
        jumlah_anggota as member_count,
        desil as decile,
        status_dtks as dtks_status,
        status_dtks = 'AKTIF' as is_active
    from source
)

select * from renamed
