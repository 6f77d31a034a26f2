-- Every (period, district, dataset) that received at least one file version: how many
-- versions, the first and the latest (its status and row counts), and whether (and when) the
-- first ACCEPTED / PARTIAL version arrived by the deadline. (Which version is served is
-- decided in int_file_versions_served only.)
with

file_versions as (
    select
        period,
        district_code,
        dataset,
        version,
        status,
        received_at,
        deadline_at,
        is_servable,
        is_received_by_deadline,
        rows_total,
        rows_accepted,
        rows_rejected,
        rejection_reason
    from {{ ref('stg_audit__file_versions') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by period, district_code, dataset
            order by version
        ) as arrival_rank,
        row_number() over (
            partition by period, district_code, dataset
            order by version desc
        ) as recency_rank,
        row_number() over (
            partition by period, district_code, dataset
            order by case when is_servable then 0 else 1 end, version
        ) as servable_rank
    from file_versions
),

summarised as (
    select
        period,
        district_code,
        dataset,
        count(distinct version) as versions_received,
        max(case when arrival_rank = 1 then received_at end) as first_received_at,
        max(case when recency_rank = 1 then received_at end) as last_received_at,
        max(case when recency_rank = 1 then status end) as latest_status,
        max(case when recency_rank = 1 then rows_total end) as latest_rows_total,
        max(case when recency_rank = 1 then rows_accepted end) as latest_rows_accepted,
        max(case when recency_rank = 1 then rows_rejected end) as latest_rows_rejected,
        max(case when recency_rank = 1 then rejection_reason end) as latest_rejection_reason,
        coalesce(
            bool_or(servable_rank = 1 and is_servable and is_received_by_deadline),
            false
        ) as is_on_time,
        -- the first ACCEPTED / PARTIAL version: when the dataset first became servable
        max(
            case when servable_rank = 1 and is_servable then received_at end
        ) as first_servable_received_at,
        max(
            case when servable_rank = 1 and is_servable then deadline_at end
        ) as first_servable_deadline_at
    from ranked
    group by
        period,
        district_code,
        dataset
)

select * from summarised
