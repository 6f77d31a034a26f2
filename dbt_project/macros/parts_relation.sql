{#- Where an incremental model's parts are kept (macros/incremental_inputs.sql): beside the
    model, in its schema. A file of its own so that the SQL lint's stub of it
    (dbt_project/.sqlfluff, where dbt's `api` does not exist) is the one the models use. -#}
{% macro parts_relation() -%}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__parts'
    )) }}
{%- endmacro %}
