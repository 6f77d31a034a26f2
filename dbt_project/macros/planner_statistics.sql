{#-
    Post-hook of every model (dbt_project.yml): on PostgreSQL, `analyze` the table just built.

    A table created by `create table as` or filled by an incremental insert has no planner
    statistics until autovacuum gets to it (a minute or more later), but the next model reads
    it at once. Without statistics PostgreSQL guessed ~3,700 rows for the ~460,000 eligible
    households in effect and chose a merge join on (period, district) that compares every paid
    household with every eligible one of its district: at half a province (~0.9M roster and
    ~0.9M register rows) `int_households_paid` was still running after 7.5 minutes; with
    statistics it is a hash join of about 5 s. `analyze` samples at most 30,000 rows, so it
    costs under a second even on the largest tables. Views have nothing to analyze;
    DuckDB keeps its own statistics, so nothing is run there.
-#}
{% macro refresh_planner_statistics() -%}
    {%- if target.type == 'postgres'
        and config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}

{#-
    Pre-hook of a model whose rows PostgreSQL misjudges: on PostgreSQL, plan this model's
    transaction without one kind of plan node (`plan_without('nestloop')`, `'sort'`: the
    `enable_<method>` planner settings) and without JIT. `set local` ends with the model's
    transaction. DuckDB plans these joins and aggregates by hashing itself, so nothing is run
    there. PostgreSQL has no statistics for a CTE, so a model that joins one guesses its rows:

    * `nestloop`, int_figures_flagged: it guesses one row for a filtered self-join such as
      `history_pairs` (each figure with the district's 12 months before: ~12 rows per figure
      in truth) and joins it to itself in a nested loop, which grows with the square of the
      history: measured by `make bench` on a scale-0.02 history, the model took 9 s at month 5
      and 97 s at month 9; the same query without nested loops 0.9 s at month 10.
    * `sort`, int_households_paid: joined with `to_compute`, it guessed ~13,500 paid rows of a
      province month for 1.66 M, and made the paid households distinct by sorting them, on
      the text of the household key in the database's collation, for a merge join with the
      snapshots in effect. That sort was half of the model's time; hashing the same rows took
      the model from 7.1-7.3 s to 5.0-5.1 s in a whole build, alternating (docs/performance.md,
      twenty-third session), and the model is on the build's critical path.

    JIT compilation is turned off with it: a plan that can only use the disabled method (the
    fingerprint's months `between` two numbers can only be a nested loop,
    macros/period_inputs.sql) still gets it, with PostgreSQL's penalty for a disabled plan
    (10^10) in its cost, and a cost that high makes PostgreSQL compile the whole query with
    full optimisation: 1.5 s of compiling, every month, for a query that runs in 0.2 s
    (measured on a scale-0.02 history, docs/performance.md).
-#}
{% macro plan_without(planner_method) -%}
    {%- if planner_method not in ('nestloop', 'sort') -%}
        {{ exceptions.raise_compiler_error(
            "plan_without: 'nestloop' or 'sort', not '" ~ planner_method ~ "'"
        ) }}
    {%- endif -%}
    {%- if target.type == 'postgres' -%}
        set local enable_{{ planner_method }} = off;
        set local jit = off
    {%- endif -%}
{%- endmacro %}

{#-
    Post-hook of every model (dbt_project.yml): on PostgreSQL, a BRIN index on `period` and on
    `built_at` of each incremental table.

    An incremental table only grows: every build appends its new periods at the end, so a
    block range of the table holds a narrow range of periods and of build times. A BRIN index
    (a few pages, next to nothing to maintain on insert) then lets a query bounded by a
    constant (`period >= (select min(period) ...)`, macros/new_rows.sql, macros/reach_inputs.sql)
    read only the blocks of the newest periods instead of every month's rows. DuckDB keeps
    min/max per row group itself, so nothing is created there.

    A block range filled after the index was made is not summarised until a VACUUM gets to it,
    and an unsummarised range matches every query: each build summarises what it appended
    (brin_summarize_new_values reads only the new pages), or the index would say "read it
    all" about exactly the newest periods.
-#}
{% macro period_block_indexes() -%}
    {%- if target.type == 'postgres' and config.get('materialized') == 'incremental' -%}
        {%- for column in ['period', 'built_at'] -%}
            {%- set index = this.identifier ~ '__' ~ column ~ '_brin' -%}
            create index if not exists "{{ index }}" on {{ this }} using brin ({{ column }});
            select brin_summarize_new_values('{{ this.schema }}."{{ index }}"'::regclass);
        {% endfor -%}
    {%- endif -%}
{%- endmacro %}

{#-
    on-run-start: the same for `raw`'s BRIN indexes on the period (made by the warehouse's
    set-up, sinergi.warehouse.schema), which the loads since the last build appended to: every
    BRIN index of the schema, as the catalogue lists them (none yet: nothing done).
-#}
{% macro summarise_raw_period_indexes() -%}
    {%- if target.type == 'postgres' -%}
        select brin_summarize_new_values(indexes.oid)
        from pg_class as indexes
        inner join pg_am as methods on indexes.relam = methods.oid
        where indexes.relnamespace = to_regnamespace('raw')
            and indexes.relkind = 'i'
            and methods.amname = 'brin'
    {%- endif -%}
{%- endmacro %}


{#-
    on-run-start: on PostgreSQL, `analyze` every table of `raw` changed since its last
    statistics (the month's loads, just before the build).

    Without statistics PostgreSQL does not know that a table's rows come in period order (the
    correlation of `_period`) nor how many a period holds, so it reads a whole `raw` table
    rather than the newest block ranges through the BRIN index: measured on a warehouse of 11
    months at scale 0.2 (3.95 M roster rows), the not-null test of the roster's period, scoped
    to the newest period, took 440 ms by a parallel scan of all 112,660 blocks; after
    `analyze` (0.35 s, once per build), 1.5 ms through the index (docs/performance.md).
    Autovacuum would get to the table eventually -- after the build that needs it, and never
    where it is turned off, as on the machine those numbers come from. Tables nothing was
    loaded into are left alone.
-#}
{% macro analyze_changed_raw_tables() -%}
    {%- if target.type == 'postgres' -%}
        do $$
        declare
            changed record;
        begin
            for changed in
                select relid::regclass as name
                from pg_stat_user_tables
                where schemaname = 'raw' and n_mod_since_analyze > 0
            loop
                execute format('analyze %s', changed.name);
            end loop;
        end
        $$
    {%- endif -%}
{%- endmacro %}
