{#-
    Schemas are exactly the folder names (staging, intermediate, marts, seeds) on both
    engines, never "<target schema>_<custom>": the marts spec fixes `marts` as the schema BI
    tools query, and grants are given per schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
