-- Every figure the districts reported, one row per (period, district, dataset, indicator,
-- breakdown): what outlier detection scores (int_figures_flagged). Figures that were not
-- reported (NULL in the marts) are not figures. A table, rebuilt whole: it is small (a few
-- thousand rows a month) and read several times by int_figures_flagged and its fingerprint
-- (macros/period_inputs.sql).
with

program_reach as (
    select
        period,
        district_code,
        program_code,
        recipients,
        amount_disbursed_idr
    from {{ ref('fct_program_reach') }}
    where is_reported
),

ppks as (
    select
        period,
        district_code,
        ppks_code,
        location,
        total_count
    from {{ ref('fct_ppks') }}
    where is_reported
),

psks as (
    select
        period,
        district_code,
        psks_code,
        resource_count
    from {{ ref('fct_psks') }}
    where is_reported
),

-- eligible households only for the month a snapshot was submitted: a carried-forward
-- snapshot repeats an old figure, it is not a new report
household_reach as (
    select
        period,
        district_code,
        eligible_households
    from {{ ref('fct_household_reach') }}
    where dtks_period = period and eligible_households is not null
),

figures as (
    select
        period,
        district_code,
        'penerima_bantuan' as dataset,
        'recipients' as indicator,
        program_code as breakdown,
        cast(recipients as double precision) as value
    from program_reach
    union all
    select
        period,
        district_code,
        'penerima_bantuan' as dataset,
        'amount_disbursed_idr' as indicator,
        program_code as breakdown,
        cast(amount_disbursed_idr as double precision) as value
    from program_reach
    union all
    select
        period,
        district_code,
        'ppks' as dataset,
        'total_count' as indicator,
        ppks_code || ' ' || location as breakdown,
        cast(total_count as double precision) as value
    from ppks
    union all
    select
        period,
        district_code,
        'psks' as dataset,
        'resource_count' as indicator,
        psks_code as breakdown,
        cast(resource_count as double precision) as value
    from psks
    union all
    select
        period,
        district_code,
        'dtks' as dataset,
        'eligible_households' as indicator,
        'ALL' as breakdown,
        cast(eligible_households as double precision) as value
    from household_reach
),

-- months counted from year 0, so "the month before" and "the 12 months before" are integer
-- arithmetic, identical on both engines (date + interval types differ between them)
figures_numbered as (
    select
        *,
        cast(
            extract(year from period) * 12 + extract(month from period) as integer
        ) as month_number
    from figures
)

select * from figures_numbered
