{#-
    Outlier detection (marts.fct_outliers): the median as one cross-database aggregate, and
    the two settings, each read like `eligible_max_decile` (macros/eligibility.sql):
    `--vars` (what `sinergi.dbt.run_dbt(vars=...)` passes), else the SINERGI_* environment
    variable (also honoured when dbt is run by hand), else the default documented in
    `.env.example`.
-#}

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

{#- |modified z-score| above which a figure is an outlier (DHIS2's default 3.5). -#}
{% macro outlier_threshold() -%}
    {%- set configured = var('outlier_threshold', env_var('SINERGI_OUTLIER_THRESHOLD', '3.5')) -%}
    {%- set threshold = configured | string | trim | float(0) -%}
    {%- if threshold <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "outlier_threshold must be a positive number, got '" ~ configured ~ "'"
        ) }}
    {%- endif -%}
    {{ threshold }}
{%- endmacro %}

{#- Previous reported months a district needs before its own history scores a figure. -#}
{% macro outlier_min_history() -%}
    {%- set configured = var(
        'outlier_min_history', env_var('SINERGI_OUTLIER_MIN_HISTORY', '3')
    ) -%}
    {%- set months = configured | string | trim | int(0) -%}
    {%- if months < 2 or months > 12 -%}
        {{ exceptions.raise_compiler_error(
            "outlier_min_history must be an integer from 2 to 12, got '" ~ configured ~ "'"
        ) }}
    {%- endif -%}
    {{ months }}
{%- endmacro %}

{#- A double rounded to `digits` decimals through an exact decimal, so both engines store the
    same double (PostgreSQL has no round(double, n)). -#}
{% macro rounded(expression, digits) -%}
    cast(round(cast({{ expression }} as decimal(24, 6)), {{ digits }}) as double precision)
{%- endmacro %}
