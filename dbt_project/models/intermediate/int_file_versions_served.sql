-- The served version of each (period, district, dataset) of a processed period: the greatest
-- version whose status is ACCEPTED or PARTIAL (contract §3). A later REJECTED version never
-- replaces it. Combinations with nothing servable have no row.
with

file_versions as (
    select
        period,
        district_code,
        dataset,
        version
    from {{ ref('stg_audit__file_versions') }}
    where is_servable
),

processed_periods as (
    select period from {{ ref('stg_audit__processed_periods') }}
),

served as (
    select
        file_versions.period,
        file_versions.district_code,
        file_versions.dataset,
        max(file_versions.version) as served_version
    from file_versions
    inner join processed_periods
        on file_versions.period = processed_periods.period
    group by
        file_versions.period,
        file_versions.district_code,
        file_versions.dataset
)

select * from served
