{#-
    The integers of a group as one text, ascending and comma-separated (`12,40,41`): the
    row numbers an auditor looks up in a district's file. `string_agg ... order by` is spelled
    the same on PostgreSQL and DuckDB; dbt's own `listagg` macro orders differently per engine.
-#}
{% macro listagg_ordered(column) -%}
    string_agg(cast({{ column }} as varchar), ',' order by {{ column }})
{%- endmacro %}
