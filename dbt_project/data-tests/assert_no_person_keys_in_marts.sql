-- Pseudonymised NIK / No. KK keys may live in row-level models outside `marts`, never in a
-- mart BI users can read (marts spec, "Other schemas").
-- depends_on: {{ ref('fct_program_reach') }}
-- depends_on: {{ ref('fct_household_reach') }}
-- depends_on: {{ ref('fct_cross_district_duplicates') }}
-- depends_on: {{ ref('fct_cross_district_duplicate_pairs') }}
-- depends_on: {{ ref('fct_submissions') }}
-- depends_on: {{ ref('fct_reporting_rates') }}
-- depends_on: {{ ref('fct_ppks') }}
-- depends_on: {{ ref('fct_psks') }}
-- depends_on: {{ ref('fct_poverty') }}
select
    table_name,
    column_name
from information_schema.columns
where table_schema = 'marts'
    and (
        lower(column_name) like '%person_key%'
        or lower(column_name) like '%household_key%'
        or lower(column_name) like '%hmac%'
        or lower(column_name) like '%nik%'
        or lower(column_name) like '%no_kk%'
    )
