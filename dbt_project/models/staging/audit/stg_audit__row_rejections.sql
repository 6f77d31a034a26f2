-- The quarantine without `original_values`: those hold raw NIK / No. KK and stay in `audit`,
-- which only the pipeline and auditors can read.
with

source as (
    select * from {{ source('audit', 'row_rejections') }}
),

renamed as (
    select
        period,
        district_code,
        dataset,
        version,
        row_number as file_row_number,
        reason_codes
    from source
)

select * from renamed
