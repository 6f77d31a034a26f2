{#-
    Post-hook of every model (dbt_project.yml): on PostgreSQL, `analyze` the table just built.

    A table created by `create table as` or filled by an incremental insert has no planner
    statistics until autovacuum gets to it (a minute or more later), but the next model reads
    it at once. Without statistics PostgreSQL guessed ~3,700 rows for the ~460,000 eligible
    households in effect and chose a merge join on (period, district) that compares every paid
    household with every eligible one of its district: at half a province (~0.9M roster and
    ~0.9M register rows) `int_households_paid` was still running after 7.5 minutes; with
    statistics it is a hash join of about 5 s. `analyze` samples at most 30,000 rows, so it
    costs under a second even on the served-rows tables. Views have nothing to analyze;
    DuckDB keeps its own statistics, so nothing is run there.
-#}
{% macro refresh_planner_statistics() -%}
    {%- if target.type == 'postgres'
        and config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}

{#-
    Pre-hook of models that join CTEs to themselves (int_figures_flagged): on PostgreSQL, plan
    this model's transaction without nested loops.

    PostgreSQL has no statistics for a CTE and guesses one row for a filtered self-join such
    as int_figures_flagged's `history_pairs` (each figure with the district's 12 months
    before: ~12 rows per figure in truth). On one row it then joins `history_pairs` to itself in a nested
    loop, which grows with the square of the history: measured by `make bench` on a
    scale-0.02 history, the model took 9 s at month 5 and 97 s at month 9; the same query
    without nested loops 0.9 s at month 10. `set local` ends with the model's transaction.
    DuckDB plans these joins as hash joins itself, so nothing is run there.

    JIT compilation is turned off with it: a join that can only be a nested loop (the
    fingerprint's months `between` two numbers, macros/period_inputs.sql) still gets one, with
    PostgreSQL's penalty for a disabled plan (10^10) in its cost, and a cost that high makes
    PostgreSQL compile the whole query with full optimisation: 1.5 s of compiling, every month,
    for a query that runs in 0.2 s (measured on a scale-0.02 history, docs/performance.md).
-#}
{% macro plan_without_nested_loops() -%}
    {%- if target.type == 'postgres' -%}
        set local enable_nestloop = off;
        set local jit = off
    {%- endif -%}
{%- endmacro %}
