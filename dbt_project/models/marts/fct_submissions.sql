-- The completeness register: every (processed period, district, dataset), MISSING where no
-- file arrived. Status and row counts describe the latest version received; the served
-- version is the latest ACCEPTED / PARTIAL one, so a rejected resubmission shows as the
-- status while the earlier version stays served.
with

spined_submissions as (
    select
        period,
        district_code,
        dataset,
        served_version
    from {{ ref('int_submissions_spined') }}
),

file_versions as (
    select * from {{ ref('int_file_versions_summarised') }}
),

submissions as (
    select
        spined_submissions.period,
        spined_submissions.district_code,
        spined_submissions.dataset,
        file_versions.latest_status,
        file_versions.latest_status = 'REJECTED' as is_latest_rejected,
        file_versions.versions_received,
        spined_submissions.served_version,
        file_versions.first_received_at,
        file_versions.last_received_at,
        file_versions.is_on_time,
        file_versions.latest_rows_total,
        file_versions.latest_rows_accepted,
        file_versions.latest_rows_rejected,
        file_versions.latest_rejection_reason
    from spined_submissions
    left join file_versions
        on spined_submissions.period = file_versions.period
        and spined_submissions.district_code = file_versions.district_code
        and spined_submissions.dataset = file_versions.dataset
),

final as (
    select
        period,
        district_code,
        dataset,
        coalesce(latest_status, 'MISSING') as status,
        cast(coalesce(versions_received, 0) as integer) as versions_received,
        served_version,
        first_received_at,
        last_received_at,
        coalesce(is_on_time, false) as is_on_time,
        coalesce(latest_rows_total, 0) as rows_total,
        case
            when is_latest_rejected then 0 else coalesce(latest_rows_accepted, 0)
        end as rows_accepted,
        case
            when is_latest_rejected then coalesce(latest_rows_total, 0)
            else coalesce(latest_rows_rejected, 0)
        end as rows_rejected,
        case when is_latest_rejected then latest_rejection_reason end as rejection_reason
    from submissions
)

select * from final
