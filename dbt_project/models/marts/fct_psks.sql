-- Social-welfare resources per (period, district, PSKS type): `jumlah` of the served row, 0
-- when a served file omits the type, NULL when the district's `psks` is not served.
with

district_periods as (
    select * from {{ ref('int_submissions_spined') }}
    where dataset = 'psks'
),

psks_types as (
    select psks_code from {{ ref('dim_psks_types') }}
),

psks_counts as (
    select
        period,
        district_code,
        psks_code,
        resource_count
    from {{ ref('int_psks_counts_served') }}
),

resources_per_type as (
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
        district_periods.is_reported,
        cast(
            {{ measure_if_reported(
                'resources_per_type.resource_count', 'district_periods.is_reported'
            ) }}
            as bigint
        ) as resource_count
    from district_periods
    cross join psks_types
    left join resources_per_type
        on district_periods.period = resources_per_type.period
        and district_periods.district_code = resources_per_type.district_code
        and psks_types.psks_code = resources_per_type.psks_code
)

select * from final
