{#-
    A fact's measure under the marts spec's NULL-versus-zero rule: NULL when the dataset
    behind it is not served for (period, district) -- "no data" -- else the measure, with
    nothing found counted as 0. `reported` is the condition that says the figure exists
    (`is_reported`, or `is_reported and has_snapshot` for eligibility-derived figures).
-#}
{% macro measure_if_reported(measure, reported='is_reported') -%}
    case when {{ reported }} then coalesce({{ measure }}, 0) end
{%- endmacro %}
