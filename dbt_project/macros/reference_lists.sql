{#-
    Small closed code lists that are part of the submission contract rather than reference
    data: the four datasets (same order as `sinergi.reference.DATASETS`) and the two PPKS
    locations. Rendered as a `values` relation with one varchar column.
-#}
{% macro datasets() -%}
    {{ return(['ppks', 'psks', 'penerima_bantuan', 'dtks']) }}
{%- endmacro %}

{% macro ppks_locations() -%}
    {{ return(['LUAR_UPT', 'DALAM_UPT']) }}
{%- endmacro %}

{% macro values_relation(values, column_name) -%}
    (
        {%- for value in values %}
        select cast('{{ value }}' as varchar) as {{ column_name }}
        {%- if not loop.last %} union all{% endif %}
        {%- endfor %}
    )
{%- endmacro %}
