-- People needing social-welfare services per (period, district, PPKS category, location):
-- sums over the served rows of all sub-districts; 0 for a category a served file does not
-- list, NULL when the district's `ppks` is not served.
with

district_periods as (
    select * from {{ ref('int_submissions_spined') }}
    where dataset = 'ppks'
),

ppks_categories as (
    select ppks_code from {{ ref('dim_ppks_categories') }}
),

locations as {{ values_relation(ppks_locations(), 'location') }},

ppks_counts as (
    select * from {{ ref('int_ppks_counts_served') }}
),

summed as (
    select
        period,
        district_code,
        ppks_code,
        location,
        sum(male_count) as male_count,
        sum(female_count) as female_count,
        sum(total_count) as total_count
    from ppks_counts
    group by
        period,
        district_code,
        ppks_code,
        location
),

final as (
    select
        district_periods.period,
        district_periods.district_code,
        ppks_categories.ppks_code,
        locations.location,
        district_periods.is_reported,
        cast(
            {{ measure_if_reported('summed.male_count', 'district_periods.is_reported') }}
            as bigint
        ) as male_count,
        cast(
            {{ measure_if_reported('summed.female_count', 'district_periods.is_reported') }}
            as bigint
        ) as female_count,
        cast(
            {{ measure_if_reported('summed.total_count', 'district_periods.is_reported') }}
            as bigint
        ) as total_count
    from district_periods
    cross join ppks_categories
    cross join locations
    left join summed
        on district_periods.period = summed.period
        and district_periods.district_code = summed.district_code
        and ppks_categories.ppks_code = summed.ppks_code
        and locations.location = summed.location
)

select * from final
