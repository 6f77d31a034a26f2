with

source as (
    select * from {{ source('audit', 'file_versions') }}
),

renamed as (
    select
        period,
        district_code,
        dataset,
        version,
        file_name,
        sha256,
        size_bytes,
        received_at,
        deadline_at,
        status,
        rejection_reason,
        rejection_detail,
        rows_total,
        rows_accepted,
        rows_rejected,
        archive_path,
        judged_at,
        status in ('ACCEPTED', 'PARTIAL') as is_servable,
        received_at <= deadline_at as is_received_by_deadline
    from source
)

select * from renamed
