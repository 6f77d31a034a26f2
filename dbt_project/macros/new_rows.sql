{#-
    Data tests of the incremental tables read only the periods written since they last passed.

    The incremental models replace their rows a whole part at a time (a (period, district) or
    a period: macros/served_rows.sql, macros/incremental_inputs.sql), and every row they write
    carries `built_at`: when the dbt invocation that wrote it started (built_at()). Their
    tests' keys include the period, so a duplicate or a null can only be in a period with a
    row written since the test last passed (data_test_passes): the older periods' rows, every
    one of which it passed on, have not changed. Reading every row of the newer periods, old
    rows included, still finds rows a rewrite should have removed and did not.

    In the yml: `where: "period >= (select min(period) from __this__ where __new_rows__)"`;
    `__this__` is the tested relation, `__new_rows__` the rows with a `built_at` after the
    start of the invocation in which the test last passed: the test reads the periods from
    the first one with a new row (usually just the month built). A lower bound rather than a
    list of periods: a constant for PostgreSQL, which then reads only the newest blocks
    through the BRIN indexes on `built_at` and `period` (macros/planner_statistics.sql). A
    failed test records no pass, so its periods stay under test until it passes; a new or
    changed test (another unique_id) has no pass yet and reads every row. So a month's build
    tests that month, not the whole history again (docs/performance.md).

    The staging views of `raw` (dbt_project.yml: every test in models/staging/raw) use
    `where: "period >= __first_new_period__"`: the first period with a file version judged
    since the test last passed (audit.file_versions.judged_at; raw has a BRIN index on its
    period, sinergi.warehouse.schema). `raw` is append-only and a version's rows are committed
    with its file_versions row, before the month's dbt build starts, so a version judged
    before that start was visible to the test that passed. Compared as seconds since 1970
    (`extract(epoch ...)`), which both engines compute alike with and without time zone.

    The views of the served rows (macros/served_rows.sql) and the views over them use
    `where: "period >= __first_period_with_new_sources__"`: the first period whose sources
    changed since the test last passed (first_period_with_new_sources below). They store
    nothing, so they have no `built_at`; what they return for a period changes only with its
    sources.

    dbt renders a test's `where` when it parses the project, long before the build, so the
    placeholders are filled in when the test runs, by this override of dbt's
    get_where_subquery (dbt's documented way to template a `where` at run time). A `where`
    without them is used as written.

    `--vars '{"test_every_row": true}'` reads every row again (`dbt build --full-refresh`
    does too: it rewrites every row with a new `built_at`).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and ('__new_rows__' in where or '__first_new_period__' in where
            or '__first_period_with_new_sources__' in where) -%}
        {%- set where = where
            | replace('__new_rows__', new_rows(model.unique_id))
            | replace('__first_new_period__', first_new_period(model.unique_id))
            | replace(
                '__first_period_with_new_sources__',
                first_period_with_new_sources(model.unique_id)
            )
            | replace('__this__', relation | string) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The rows the test `test_id` has not passed on yet. -#}
{% macro new_rows(test_id) -%}
    {%- if test_every_row() -%}
        1 = 1
    {%- else -%}
        built_at > {{ last_pass(test_id) }}
    {%- endif -%}
{%- endmacro %}

{#- The first period with a file version judged since the test `test_id` last passed
    (NULL when there is none: the test reads nothing). -#}
{% macro first_new_period(test_id) -%}
    (
        select min(versions.period)
        from {{ audit_relation('file_versions') }} as versions
        {%- if not test_every_row() %}
        where extract(epoch from versions.judged_at)
            >= extract(epoch from {{ last_pass(test_id) }})
        {%- endif %}
    )
{%- endmacro %}

{#-
    For the tests of the served rows' views and for a test that re-derives the served rows
    from the sources on its own (data-tests/assert_program_reach_matches_raw_served_rows.sql):
    the first period whose sources changed since the test `test_id` (by default the test
    being rendered) last passed -- a file version judged, an approval recorded, a period
    processed for the first time: everything that can change which rows a period serves.
    Older periods' sources are as they were when the test passed on them. (NULL when nothing
    changed: the test reads nothing.)
-#}
{% macro first_period_with_new_sources(test_id=none) -%}
    (
        select min(changed.period)
        from (
            select
                versions.period,
                versions.judged_at as changed_at
            from {{ audit_relation('file_versions') }} as versions
            union all
            select
                approvals.period,
                approvals.event_at as changed_at
            from {{ audit_relation('approvals') }} as approvals
            union all
            select
                processed.period,
                processed.first_processed_at as changed_at
            from {{ audit_relation('processed_periods') }} as processed
        ) as changed
        {%- if not test_every_row() %}
        where extract(epoch from changed.changed_at)
            >= extract(epoch from {{ last_pass(test_id or model.unique_id) }})
        {%- endif %}
    )
{%- endmacro %}

{% macro audit_relation(identifier) -%}
    {{ api.Relation.create(database=target.database, schema='audit', identifier=identifier) }}
{%- endmacro %}

{#- When the invocation in which the test last passed started (long ago if never). -#}
{% macro last_pass(test_id) -%}
    coalesce(
        (
            select max(passes.passed_at)
            from {{ data_test_passes() }} as passes
            where passes.test_id = '{{ test_id }}'
        ),
        cast('1900-01-01 00:00:00' as timestamp)
    )
{%- endmacro %}

{% macro test_every_row() -%}
    {{ return(var('test_every_row', false) | string | lower in ('true', '1', 'yes')) }}
{%- endmacro %}

{#- The `built_at` of a row an incremental model writes: when this invocation started (the
    same for every model of one `dbt build`), on both engines. -#}
{% macro built_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- Where the passes are kept: dbt's own bookkeeping beside the intermediate tables, one row
    per (test, invocation in which it passed). -#}
{% macro data_test_passes() -%}
    {{ api.Relation.create(
        database=target.database, schema='intermediate', identifier='data_test_passes'
    ) }}
{%- endmacro %}

{#- on-run-start: the table exists before any test reads it. -#}
{% macro create_data_test_passes() -%}
    create schema if not exists intermediate;
    create table if not exists {{ data_test_passes() }} (
        test_id varchar not null,
        passed_at timestamp not null
    )
{%- endmacro %}

{#- on-run-end: remember the tests of this invocation that passed (statuses as dbt reports
    them; `warn` and `fail` are not passes), and forget their older passes. -#}
{% macro record_data_test_passes(results) -%}
    {%- set passed = [] -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status == 'pass' -%}
        {%- do passed.append(result.node.unique_id) -%}
    {%- endfor -%}
    {%- if passed -%}
        {%- set ids -%}
            {%- for test_id in passed -%}
                '{{ test_id }}'{{ ", " if not loop.last }}
            {%- endfor -%}
        {%- endset -%}
        delete from {{ data_test_passes() }} where test_id in ({{ ids }});
        insert into {{ data_test_passes() }} (test_id, passed_at)
        {%- for test_id in passed %}
        {{ "select" if loop.first else "union all select" }} '{{ test_id }}', {{ built_at() }}
        {%- endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
