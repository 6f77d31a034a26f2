-- Every fact has a row for every combination of its grain over the processed periods and
-- the 38 districts (marts spec), and nothing else: row counts are exactly the products.
with

dimension_sizes as (
    select
        (select count(*) from {{ ref('stg_audit__processed_periods') }}) as periods,
        (select count(*) from {{ ref('dim_districts') }}) as districts,
        (select count(*) from {{ ref('dim_programs') }}) as programs,
        (select count(*) from {{ ref('dim_ppks_categories') }}) as ppks_categories,
        (select count(*) from {{ ref('dim_psks_types') }}) as psks_types,
        {{ datasets() | length }} as datasets,
        {{ ppks_locations() | length }} as ppks_locations
),

fact_sizes as (
    select
        (select count(*) from {{ ref('fct_submissions') }}) as fct_submissions,
        (select count(*) from {{ ref('fct_reporting_rates') }}) as fct_reporting_rates,
        (select count(*) from {{ ref('fct_program_reach') }}) as fct_program_reach,
        (select count(*) from {{ ref('fct_household_reach') }}) as fct_household_reach,
        (select count(*) from {{ ref('fct_ppks') }}) as fct_ppks,
        (select count(*) from {{ ref('fct_psks') }}) as fct_psks,
        (
            select count(*) from {{ ref('fct_cross_district_duplicates') }}
        ) as fct_cross_district_duplicates
),

compared as (
    select
        fact_sizes.*,
        fact_sizes.fct_submissions
        <> dimension_sizes.periods * dimension_sizes.districts * dimension_sizes.datasets
        or fact_sizes.fct_reporting_rates
        <> dimension_sizes.periods * dimension_sizes.datasets
        or fact_sizes.fct_program_reach
        <> dimension_sizes.periods * dimension_sizes.districts * dimension_sizes.programs
        or fact_sizes.fct_household_reach
        <> dimension_sizes.periods * dimension_sizes.districts
        or fact_sizes.fct_ppks
        <> dimension_sizes.periods * dimension_sizes.districts
        * dimension_sizes.ppks_categories * dimension_sizes.ppks_locations
        or fact_sizes.fct_psks
        <> dimension_sizes.periods * dimension_sizes.districts * dimension_sizes.psks_types
        or fact_sizes.fct_cross_district_duplicates
        <> dimension_sizes.periods * dimension_sizes.programs as is_incomplete
    from fact_sizes
    cross join dimension_sizes
)

select * from compared
where is_incomplete
