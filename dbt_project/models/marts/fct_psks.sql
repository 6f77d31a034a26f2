-- Social-welfare resources per (period, district, PSKS type): `jumlah` of the served row, 0
-- when a served file omits the type, NULL when the district's `psks` is not served.
with

district_periods as (
    select * from {{ ref('int_district_periods_spined') }}
),

psks_types as (
    select psks_code from {{ ref('dim_psks_types') }}
),

reports as (
    select
        period,
        district_code
    from {{ ref('int_file_versions_served') }}
    where dataset = 'psks'
),

psks_counts as (
    select * from {{ ref('int_psks_counts_served') }}
),

summed as (
    select
        period,
        district_code,
        psks_code,
        sum(resource_count) as resource_count
    from psks_counts
    group by
        period,
        district_code,
        psks_code
),

final as (
    select
        district_periods.period,
        district_periods.district_code,
        psks_types.psks_code,
        reports.period is not null as is_reported,
        case
            when reports.period is not null
                then cast(coalesce(summed.resource_count, 0) as bigint)
        end as resource_count
    from district_periods
    cross join psks_types
    left join reports
        on district_periods.period = reports.period
        and district_periods.district_code = reports.district_code
    left join summed
        on district_periods.period = summed.period
        and district_periods.district_code = summed.district_code
        and psks_types.psks_code = summed.psks_code
)

select * from final
