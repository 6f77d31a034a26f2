-- Served `dtks` rows of every (period, district); see macros/served_rows.sql.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ record_served_versions_to_load('dtks') }}",
    )
}}

{{ served_rows(ref('stg_raw__dtks_households'), 'dtks') }}
