-- Figures a district reported that are far from what it usually reports (DHIS2-style
-- outlier detection), one row per flagged (period, district, figure, method): warnings for
-- the district to check, never rejections. Scored incrementally, a period at a time, in
-- int_figures_flagged (the methods are described there and in _outliers__docs.md); the mart
-- is those rows without the bookkeeping.
with

flagged as (
    select
        period,
        district_code,
        dataset,
        indicator,
        breakdown,
        method,
        value,
        previous_value,
        relative_change,
        history_months,
        baseline_median,
        baseline_mad,
        score,
        threshold,
        direction
    from {{ ref('int_figures_flagged') }}
)

select * from flagged
