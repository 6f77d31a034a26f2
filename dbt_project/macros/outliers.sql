{#-
    Outlier detection (marts.fct_outliers): the median as one cross-database aggregate, and
    the two settings, each read like `eligible_max_decile` (macros/eligibility.sql):
    `--vars` (what `sinergi.dbt.run_dbt(vars=...)` passes), else the SINERGI_* environment
    variable (also honoured when dbt is run by hand), else the default documented in
    `.env.example`.
-#}

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

{#- Per group of `keys` in the CTE `relation`: how many rows (`observations`), the median of
    `value` (`baseline_median`) and the median absolute deviation around it (`baseline_mad`),
    the two statistics of a modified z-score. A parenthesised subquery to select from. -#}
{% macro median_and_mad(relation, value, keys) -%}
    (
        select
            {%- for key in keys %}
            medians.{{ key }},
            {%- endfor %}
            medians.observations,
            medians.baseline_median,
            {{ median_of('abs(observed.' ~ value ~ ' - medians.baseline_median)') }}
                as baseline_mad
        from (
            select
                {{ keys | join(', ') }},
                count(*) as observations,
                {{ median_of(value) }} as baseline_median
            from {{ relation }}
            group by {{ keys | join(', ') }}
        ) as medians
        inner join {{ relation }} as observed
            on {{ same_keys('medians', 'observed', keys) }}
        group by
            {%- for key in keys %}
            medians.{{ key }},
            {%- endfor %}
            medians.observations,
            medians.baseline_median
    )
{%- endmacro %}

{#- `left.k = right.k and ...` for every column of `keys`: a join on one figure. -#}
{% macro same_keys(left, right, keys) -%}
    {%- for key in keys -%}
        {% if not loop.first %} and {% endif %}{{ left }}.{{ key }} = {{ right }}.{{ key }}
    {%- endfor -%}
{%- endmacro %}
