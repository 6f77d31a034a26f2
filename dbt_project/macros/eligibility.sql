{#-
    Highest DTKS decile (1 = poorest) whose active households count as eligible.

    One setting, read in this order: `--vars '{eligible_max_decile: N}'` (what
    `sinergi.dbt.run_dbt(vars=...)` passes), else the environment variable
    SINERGI_ELIGIBLE_MAX_DECILE (the pipeline's configuration, also honoured when dbt is run
    by hand), else 4. Every model that depends on eligibility is a view, a table rebuilt on
    every run, or an incremental reach model whose fingerprint includes the threshold
    (macros/reach_inputs.sql), so changing it never leaves stale figures behind.
-#}
{% macro eligible_max_decile() -%}
    {%- set configured = var('eligible_max_decile', env_var('SINERGI_ELIGIBLE_MAX_DECILE', '4')) -%}
    {%- set decile = configured | string | trim | int(0) -%}
    {%- if decile < 1 or decile > 10 -%}
        {{ exceptions.raise_compiler_error(
            "eligible_max_decile must be an integer from 1 to 10, got '" ~ configured ~ "'"
        ) }}
    {%- endif -%}
    {{ decile }}
{%- endmacro %}
