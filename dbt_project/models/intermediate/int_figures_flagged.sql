-- Figures a district reported that are far from what it usually reports (DHIS2-style
-- outlier detection), one row per flagged (period, district, figure, method): the rows of
-- marts.fct_outliers, with what each period was computed from. Warnings for
-- the district to check, never rejections. Two robust scores, one threshold:
--   history          modified z-score of the figure against the median and MAD of the
--                    district's own reported values of the 12 months before, once it has
--                    `outlier_min_history` of them;
--   province_change  modified z-score of the district's change since the month before
--                    against the median and MAD of every district's change of that figure
--                    (a jump or drop the rest of the province did not see).
-- Figures that were not reported (NULL in the marts) are never history and never scored
-- (int_figures_unioned).
--
-- Incremental by period (macros/period_inputs.sql): a period is scored again only when its
-- figures, those of its 12 months before or the settings changed, so a month's build scores
-- that month, not the whole history again.
-- The self-joins below are planned without nested loops on PostgreSQL
-- (macros/planner_statistics.sql: a nested loop grew with the square of the history).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=[
            "{{ plan_without('nestloop') }}",
            "{{ record_inputs_to_compute(outlier_inputs(), ['period']) }}",
        ],
    )
}}
{%- set figure_keys = ['district_code', 'dataset', 'indicator', 'breakdown'] %}
{%- set change_keys = ['dataset', 'indicator', 'breakdown'] %}
with

to_compute as {{ inputs_to_compute(outlier_inputs()) }},

-- the figures of the periods scored in this build and of the 12 months before the first of
-- them (their previous months and history); older ones are not read
figures_numbered as (
    select *
    from {{ ref('int_figures_unioned') }}
    where month_number >= (select min(to_compute.month_number) - 12 from to_compute)
),

figures_to_score as (
    select figures_numbered.*
    from figures_numbered
    inner join to_compute
        on figures_numbered.period = to_compute.period
),

figures_with_previous_month as (
    select
        figures.period,
        figures.district_code,
        figures.dataset,
        figures.indicator,
        figures.breakdown,
        figures.value,
        previous_month.value as previous_value,
        {{ fraction('figures.value - previous_month.value', 'previous_month.value') }}
            as relative_change
    from figures_to_score as figures
    left join figures_numbered as previous_month
        on {{ same_keys('figures', 'previous_month', figure_keys) }}
        and figures.month_number - 1 = previous_month.month_number
),

history_pairs as (
    select
        figures.*,
        earlier.value as earlier_value
    from figures_to_score as figures
    inner join figures_numbered as earlier
        on {{ same_keys('figures', 'earlier', figure_keys) }}
        and earlier.month_number < figures.month_number
        and earlier.month_number >= figures.month_number - 12
),

history_baselines as (
    select *
    from
        {{ median_and_mad('history_pairs', 'earlier_value', ['period'] + figure_keys) }}
            as baselines
),

-- a perfectly steady history has MAD 0: the MAD is taken as at least 1 and 5 % of the
-- median, so a one-unit change of a constant series is not an infinite score
history_scored as (
    select
        figures.*,
        history_baselines.observations as history_months,
        history_baselines.baseline_median,
        history_baselines.baseline_mad,
        'history' as method,
        0.6745 * (figures.value - history_baselines.baseline_median)
        / greatest(
            history_baselines.baseline_mad,
            0.05 * abs(history_baselines.baseline_median),
            1.0
        ) as score
    from figures_with_previous_month as figures
    inner join history_baselines
        on {{ same_keys('figures', 'history_baselines', ['period'] + figure_keys) }}
    where history_baselines.observations >= {{ outlier_min_history() }}
),

changes as (
    select * from figures_with_previous_month
    where relative_change is not null
),

province_change_baselines as (
    select *
    from
        {{ median_and_mad('changes', 'relative_change', ['period'] + change_keys) }}
            as baselines
),

-- compared only when at least 5 districts reported the figure both months; the MAD of the
-- changes is taken as at least 0.05 (5 percentage points), the noise of a steady month; a
-- figure under 10 in both months is not compared (3 -> 4 is +33 % and no signal)
province_change_scored as (
    select
        figures.*,
        cast(null as integer) as history_months,
        province_change_baselines.baseline_median,
        province_change_baselines.baseline_mad,
        'province_change' as method,
        0.6745 * (figures.relative_change - province_change_baselines.baseline_median)
        / greatest(province_change_baselines.baseline_mad, 0.05) as score
    from changes as figures
    inner join province_change_baselines
        on {{ same_keys('figures', 'province_change_baselines', ['period'] + change_keys) }}
    where
        province_change_baselines.observations >= 5
        and greatest(figures.value, figures.previous_value) >= 10
),

scored as (
    select * from history_scored
    union all
    select * from province_change_scored
),

final as (
    select
        period,
        district_code,
        dataset,
        indicator,
        breakdown,
        method,
        value,
        previous_value,
        {{ rounded('relative_change', 4) }} as relative_change,
        cast(history_months as integer) as history_months,
        {{ rounded('baseline_median', 4) }} as baseline_median,
        {{ rounded('baseline_mad', 4) }} as baseline_mad,
        {{ rounded('score', 2) }} as score,
        cast({{ outlier_threshold() }} as double precision) as threshold,
        case when score > 0 then 'UP' else 'DOWN' end as direction
    from scored
    where abs(score) > {{ outlier_threshold() }}
)

select
    final.*,
    {{ built_at() }} as built_at
from final
