{#-
    The rows of the served version of each (period, district) of one dataset, for an
    incremental model keyed by (period, district_code).

    `raw.*` is append-only and a served version only ever moves to a newer version, so a
    (period, district) needs (re)loading exactly when its served version is not the version
    already in the table: a first submission, a resubmission, or a re-run of an earlier
    period. The served version is the part's fingerprint (macros/incremental_inputs.sql): the
    pre-hook deletes the rows of a (period, district) whose served version moved and the model
    appends the rows of the new one; everything else stays. This keeps the incremental table
    identical to a full refresh, whatever order periods are run in. (Rows deleted from `raw` by
    hand need `dbt build --full-refresh`.)
-#}
{% macro served_rows(rows_of_all_versions, dataset) %}
with

rows_of_all_versions as (
    select * from {{ rows_of_all_versions }}
),

-- Materialised: the few versions to load (this build's parts) are decided first, then joined
-- with the raw rows. (Inlined, PostgreSQL once joined every raw row of the history to its
-- served version before narrowing them down: a nested loop over all raw rows.)
versions_to_load as materialized (
    select
        period,
        district_code,
        served_version
    from {{ inputs_to_compute(served_inputs(dataset)) }} as parts
),

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

{#- The parts of a served-rows model: every (period, district) with a served version of the
    dataset, the version being the fingerprint. -#}
{% macro served_inputs(dataset) -%}
    (
        select
            period,
            district_code,
            served_version,
            'version:' || cast(served_version as varchar) as inputs_fingerprint
        from {{ ref('int_file_versions_served') }}
        where dataset = '{{ dataset }}'
    )
{%- endmacro %}

{#- Pre-hook of a served-rows model. -#}
{% macro record_served_versions_to_load(dataset) -%}
    {{ record_inputs_to_compute(served_inputs(dataset), ['period', 'district_code']) }}
{%- endmacro %}
