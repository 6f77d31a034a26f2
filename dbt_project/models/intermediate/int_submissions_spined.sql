-- Every processed period × 38 districts × the four datasets, with the served version
-- (NULL when nothing servable arrived). `is_reported` is what every fact's NULL-versus-zero
-- rule turns on: the dataset is served for (period, district).
with

district_periods as (
    select * from {{ ref('int_district_periods_spined') }}
),

datasets as {{ values_relation(datasets(), 'dataset') }},

served_versions as (
    select * from {{ ref('int_file_versions_served') }}
),

spined as (
    select
        district_periods.period,
        district_periods.district_code,
        datasets.dataset,
        served_versions.served_version,
        served_versions.served_version is not null as is_reported
    from district_periods
    cross join datasets
    left join served_versions
        on district_periods.period = served_versions.period
        and district_periods.district_code = served_versions.district_code
        and datasets.dataset = served_versions.dataset
)

select * from spined
