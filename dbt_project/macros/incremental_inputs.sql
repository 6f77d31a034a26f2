{#-
    Incremental models that recompute a part of their rows only when what the part is computed
    from changed. Each part is a group of `keys` (a period, or a (period, district) pair), and
    `current_inputs` is a subquery of every part's keys with the text `inputs_fingerprint` of
    its inputs now (macros/reach_inputs.sql for the reach models, macros/period_inputs.sql for
    those keyed by period alone), plus any column the model reads about its parts (a month
    number).

    Equal fingerprints mean equal rows, so a part is recomputed exactly when its stored
    fingerprint is not the current one -- a new month, a resubmission, a re-run of an earlier
    period, a new setting. Everything else stays. (Rows deleted from `raw` by hand need
    `dbt build --full-refresh`.)

    Which parts a table holds, and from what, is kept beside it in a small table of parts
    (`<model>__parts`: one row per part, with its fingerprint and the `built_at` of the build
    that computed it), never read off the table itself: the table grows by every month's rows
    (~2 M a month at province scale for the paid households), the parts by a few hundred a year.
    So what a build reads to decide stays the same size from the first month to the twelfth,
    and the rows it replaces are found through the BRIN index on `period`
    (macros/planner_statistics.sql) instead of by reading every month's rows
    (docs/performance.md).
-#}

{#-
    Pre-hook: bring the table of parts up to date and delete the rows of every part whose
    inputs changed (or whose part no longer exists). The parts to compute in this build are
    then the parts with this build's `built_at` (inputs_to_compute); the model appends their
    rows. Inside the model's transaction, so a failed build leaves table and parts as they were.

    1. every current part is added with this build's `built_at` (the only read of
       `current_inputs`);
    2. an earlier part is stale when no current part has its keys and fingerprint: its rows
       are deleted -- a delete bounded by the first stale period, so PostgreSQL reads only the
       newest blocks -- and then the part itself;
    3. a current part whose keys are still there (unchanged) is dropped again: what is left
       with this build's `built_at` is new or changed.

    On a full build -- and when the table of parts is missing or its columns are not those of
    `current_inputs` (a table built before it existed, a changed fingerprint macro) -- every
    part is computed again: the table is emptied (or rebuilt by dbt) and the parts start anew.
-#}
{% macro record_inputs_to_compute(current_inputs, keys) -%}
    {%- set parts = parts_relation() -%}
    {%- set now = built_at() -%}
    {%- if is_incremental() and parts_match_inputs(parts, current_inputs) -%}
        insert into {{ parts }}
        select current_inputs.*, {{ now }} as built_at
        from {{ current_inputs }} as current_inputs;

        delete from {{ this }} as stored
        where stored.period >= (
                select min(stale.period)
                from {{ parts }} as stale
                where {{ stale_part('stale', parts, keys, now) }}
            )
            and exists (
                select 1
                from {{ parts }} as stale
                where {{ stale_part('stale', parts, keys, now) }}
                    and {{ same_keys('stale', 'stored', keys) }}
            );

        delete from {{ parts }} as stale
        where {{ stale_part('stale', parts, keys, now) }};

        delete from {{ parts }} as unchanged
        where unchanged.built_at = {{ now }}
            and exists (
                select 1
                from {{ parts }} as computed
                where computed.built_at <> {{ now }}
                    and {{ same_keys('computed', 'unchanged', keys) }}
            )
    {%- else -%}
        {%- if is_incremental() %}
        truncate table {{ this }};
        {%- endif %}
        drop table if exists {{ parts }};
        create table {{ parts }} as
        select current_inputs.*, {{ now }} as built_at
        from {{ current_inputs }} as current_inputs
    {%- endif -%}
{%- endmacro %}

{#- A part recorded by an earlier build whose keys and fingerprint are not among the current
    parts (those with this build's `built_at`). -#}
{% macro stale_part(alias, parts, keys, now) -%}
    {{ alias }}.built_at <> {{ now }}
    and not exists (
        select 1
        from {{ parts }} as current_parts
        where current_parts.built_at = {{ now }}
            and {{ same_keys('current_parts', alias, keys) }}
            and current_parts.inputs_fingerprint = {{ alias }}.inputs_fingerprint
    )
{%- endmacro %}

{#- Whether the table of parts exists with the columns of `current_inputs` (and `built_at`):
    asked when the hook runs, not when dbt parses the project. -#}
{% macro parts_match_inputs(parts, current_inputs) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set stored = adapter.get_relation(
        database=parts.database, schema=parts.schema, identifier=parts.identifier
    ) -%}
    {%- if stored is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set stored_columns = adapter.get_columns_in_relation(stored)
        | map(attribute='name') | map('lower') | list -%}
    {%- set input_columns = get_columns_in_query(
        'select * from ' ~ current_inputs ~ ' as current_inputs'
    ) | map('lower') | list -%}
    {{ return(stored_columns == input_columns + ['built_at']) }}
{%- endmacro %}

{#-
    The parts a model computes in this build, with their current fingerprint: every part on a
    full build (and in dbt's unit tests, which are never incremental), otherwise the new and
    changed parts record_inputs_to_compute left with this build's `built_at`.
-#}
{% macro inputs_to_compute(current_inputs) -%}
    {%- if is_incremental() -%}
        (
            select *
            from {{ parts_relation() }} as parts
            where parts.built_at = {{ built_at() }}
        )
    {%- else -%}
        {{ current_inputs }}
    {%- endif -%}
{%- endmacro %}

{#- In a model that reads its own earlier rows: `union all` the `columns` of the rows the
    table already holds that satisfy `condition` (the table's alias is `kept`); nothing on a
    full build, when there are none. -#}
{% macro union_rows_kept(columns, condition) -%}
    {%- if is_incremental() %}
    union all
    select
        {%- for column in columns %}
        kept.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ this }} as kept
    where {{ condition }}
    {%- endif -%}
{%- endmacro %}
