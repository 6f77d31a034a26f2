with

source as (
    select * from {{ source('raw', 'penerima_bantuan') }}
),

renamed as (
    select
        _period as period,
        _district_code as district_code,
        _version as version,
        _row_number as file_row_number,
        nik_hmac as person_key,
        no_kk_hmac as household_key,
        jenis_kelamin as sex,
        tanggal_lahir as birth_date,
        kode_desa as village_code,
        kode_program as program_code,
        nilai_bantuan as amount_idr,
        tanggal_salur as disbursed_date,
        status_salur as disbursement_status,
        status_salur = 'SALUR' as is_paid,
        status_salur = 'GAGAL' as is_failed
    from source
)

select * from renamed
