{#-
    The rows of the served version of each (period, district) of one dataset: a view of the
    staging view of `raw`, not a copy of it.

    `raw.*` is append-only and keeps every version of every file; int_file_versions_served
    names the one version served for each (period, district, dataset). Joining the two gives
    the served rows as they stand now: a resubmission, an approval or a re-run of an earlier
    period changes which version is joined, and nothing has to be deleted or rewritten.

    Why a view: these rows were once copied into incremental tables, ~2 M rows and ~800 MB a
    province month for the roster and the DTKS register, written again with every served
    version. The models downstream read only the periods they compute, with a constant lower
    bound on `period` (an InitPlan) that PostgreSQL pushes through the view into the scan of
    `raw`, so they read the newest blocks through raw's BRIN index on the period
    (sinergi.warehouse.schema) as they read the table's; the copy bought nothing but its
    writing (docs/performance.md, "The served rows are a view of raw").

    The tests of these views read the periods whose sources changed since they last passed
    (`__first_period_with_new_sources__`, macros/new_rows.sql): only a version judged, an
    approval or a period processed for the first time can change the rows a period serves.
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

served_rows as (
    select rows_of_all_versions.*
    from rows_of_all_versions
    inner join served_versions
        on rows_of_all_versions.period = served_versions.period
        and rows_of_all_versions.district_code = served_versions.district_code
        and rows_of_all_versions.version = served_versions.served_version
)

select * from served_rows
{% endmacro %}
