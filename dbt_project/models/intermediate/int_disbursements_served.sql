-- Served `penerima_bantuan` rows of each period and district: a view of raw
-- (macros/served_rows.sql).
{{ config(materialized='view') }}

{{ served_rows(ref('stg_raw__disbursements'), 'penerima_bantuan') }}
