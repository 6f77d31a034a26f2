{#- The continuous median of `expression` within a group (an aggregate, not a window).
    PostgreSQL has it only as the ordered-set aggregate percentile_cont; DuckDB's
    quantile_cont is the same interpolation, so both engines give identical numbers. -#}
{% macro median_of(expression) -%}
    {{ return(adapter.dispatch('median_of', 'sinergi')(expression)) }}
{%- endmacro %}

{% macro default__median_of(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median_of(expression) -%}
    quantile_cont({{ expression }}, 0.5)
{%- endmacro %}
