-- Served `ppks` rows of every (period, district); see macros/served_rows.sql.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ record_served_versions_to_load('ppks') }}",
    )
}}

{{ served_rows(ref('stg_raw__ppks_counts'), 'ppks') }}
