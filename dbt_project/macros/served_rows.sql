{#-
    The rows of the served version of each (period, district) of one dataset, for an
    incremental model keyed by (period, district_code) with delete+insert.

    `raw.*` is append-only and a served version only ever moves to a newer version, so a
    (period, district) needs (re)loading exactly when its served version is not the version
    already in the table: a first submission, a resubmission, or a re-run of an earlier
    period. Those (period, district) pairs are deleted and re-inserted; everything else stays.
    This keeps the incremental table identical to a full refresh, whatever order periods are
    run in. (Rows deleted from `raw` by hand need `dbt build --full-refresh`.)
-#}
{% macro served_rows(rows_of_all_versions, dataset) %}
with

rows_of_all_versions as (
    select * from {{ rows_of_all_versions }}
),

served_versions as (
    select
        period,
        district_code,
        served_version
    from {{ ref('int_file_versions_served') }}
    where dataset = '{{ dataset }}'
),

{% if is_incremental() %}
-- Materialised: decided on the few served versions first. Inlined, PostgreSQL joined every
-- raw row of the history to its served version and only then checked each against the
-- versions already loaded (a nested loop over all raw rows x all loaded versions).
versions_to_load as materialized (
    select served_versions.*
    from served_versions
    where not exists (
        select 1
        from {{ this }} as loaded
        where loaded.period = served_versions.period
            and loaded.district_code = served_versions.district_code
            and loaded.version = served_versions.served_version
    )
),
{% else %}
versions_to_load as (
    select * from served_versions
),
{% endif %}

served_rows as (
    select
        rows_of_all_versions.*,
        {{ built_at() }} as built_at
    from rows_of_all_versions
    inner join versions_to_load
        on rows_of_all_versions.period = versions_to_load.period
        and rows_of_all_versions.district_code = versions_to_load.district_code
        and rows_of_all_versions.version = versions_to_load.served_version
    -- a constant lower bound (an InitPlan): on PostgreSQL only the raw blocks of the newest
    -- periods are read, through raw's BRIN index on the period (sinergi.warehouse.schema)
    where
        rows_of_all_versions.period
        >= (select min(versions_to_load.period) from versions_to_load)
)

select * from served_rows
{% endmacro %}
