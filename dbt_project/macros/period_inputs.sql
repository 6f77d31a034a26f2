{#-
    Inputs of the incremental models whose rows of a period depend on every district of that
    period (macros/incremental_inputs.sql, keyed by `period` alone).
-#}

{#-
    int_duplicate_payments_aggregated_to_districts: a period's double payments are computed
    from the served `penerima_bantuan` roster of every district for that period, so the
    fingerprint is the list of those served versions.
-#}
{% macro roster_inputs() -%}
    (
        select
            period,
            'rosters:' || string_agg(
                district_code || ':' || cast(served_version as varchar),
                ',' order by district_code
            ) as inputs_fingerprint
        from {{ ref('int_file_versions_served') }}
        where dataset = 'penerima_bantuan'
        group by period
    )
{%- endmacro %}

{#-
    int_figures_flagged: a period's outliers are scored from the figures of that period, of the
    month before (province change) and of the 12 months before (history), with the two
    settings. Each month's figures are summarised by one digest (md5 of all its figures in a
    fixed order), and a period's fingerprint lists the digests of its 13 months: a new or
    resubmitted month therefore recomputes that month and the 12 after it, nothing else.
-#}
{% macro outlier_inputs() -%}
    (
        select
            scored.period,
            scored.month_number,
            string_agg(
                cast(digests.month_number as varchar) || ':' || digests.figures_digest,
                ',' order by digests.month_number
            )
            || '|threshold:{{ outlier_threshold() }}'
            || '|min_history:{{ outlier_min_history() }}' as inputs_fingerprint
        from (
            select distinct
                period,
                month_number
            from {{ ref('int_figures_unioned') }}
        ) as scored
        inner join (
            select
                month_number,
                md5(string_agg(
                    district_code || '|' || dataset || '|' || indicator || '|' || breakdown
                    || '|' || cast(value as varchar),
                    ',' order by district_code, dataset, indicator, breakdown
                )) as figures_digest
            from {{ ref('int_figures_unioned') }}
            group by month_number
        ) as digests
            on digests.month_number between scored.month_number - 12 and scored.month_number
        group by
            scored.period,
            scored.month_number
    )
{%- endmacro %}
