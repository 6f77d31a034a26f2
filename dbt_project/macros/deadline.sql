{#-
    The submission deadline of a period as a WIB (Asia/Jakarta) wall-clock timestamp: day
    `deadline_day` of the following month at `deadline_time` (contract §1; default day 10,
    23:59:59). Read like the eligibility threshold: `--vars` (what the pipeline passes from
    SINERGI_DEADLINE_DAY / SINERGI_DEADLINE_TIME), else those environment variables, else the
    contract's default. A day past the month's end means its last day (as
    sinergi.periods.Period.deadline). Plain date arithmetic, no time-zone conversion: WIB is what the
    deadline is stated in, and both engines compute it the same way.
-#}
{% macro deadline_wib(period) -%}
    {%- set day = var('deadline_day', env_var('SINERGI_DEADLINE_DAY', '10')) | string | trim | int(0) -%}
    {%- set at = var('deadline_time', env_var('SINERGI_DEADLINE_TIME', '23:59:59')) | string | trim -%}
    {%- if day < 1 or day > 31 -%}
        {{ exceptions.raise_compiler_error(
            "deadline_day must be an integer from 1 to 31, got '" ~ day ~ "'"
        ) }}
    {%- endif -%}
    (least(
        cast(cast({{ period }} + interval '1 month' as date) + {{ day - 1 }} as date),
        cast(cast({{ period }} + interval '2 month' as date) - 1 as date)
    ) + cast('{{ at }}' as time))
{%- endmacro %}
