-- The approvals that stand now: per (period, district, dataset), its latest approval event
-- when that event is an `approve` (an `unapprove` releases it). While one stands, the version
-- it recorded stays served (int_file_versions_served), whatever arrives later.
with

events as (
    select
        event_at,
        period,
        district_code,
        dataset,
        action,
        approved_version,
        note,
        actor_name,
        row_number() over (
            partition by period, district_code, dataset
            order by event_at desc, event_id desc
        ) as recency_rank
    from {{ ref('stg_audit__approvals') }}
),

standing as (
    select
        period,
        district_code,
        dataset,
        approved_version,
        event_at as approved_at,
        actor_name as approved_by,
        note as approval_note
    from events
    where recency_rank = 1
        and action = 'approve'
)

select * from standing
