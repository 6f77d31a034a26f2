with

source as (
    select * from {{ source('audit', 'approvals') }}
),

renamed as (
    select
        event_id,
        event_at,
        period,
        district_code,
        dataset,
        scope,
        action,
        approved_version,
        note,
        actor as actor_name,
        via
    from source
)

select * from renamed
