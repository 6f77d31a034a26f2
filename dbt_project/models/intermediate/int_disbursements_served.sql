-- Served `penerima_bantuan` rows of every (period, district); see macros/served_rows.sql.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['period', 'district_code'],
        on_schema_change='append_new_columns',
    )
}}

{{ served_rows(ref('stg_raw__disbursements'), 'penerima_bantuan') }}
