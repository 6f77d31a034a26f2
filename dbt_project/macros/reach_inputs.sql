{#-
    Incremental reach models (int_households_paid, int_households_reached_in_period,
    int_disbursements_aggregated_to_programs, int_households_reached_ytd) keep one text
    `inputs_fingerprint` per (period, district) in their table of parts
    (macros/incremental_inputs.sql): everything their rows of that (period, district) are
    computed from.

    * the served version of the district's `penerima_bantuan` roster for the period;
    * the DTKS snapshot in effect (its period and served version) and the eligibility
      threshold, which decide `is_eligible`;
    * with year_to_date: the served roster versions of every processed period of the
      district from January of the period's year up to the period.

    `raw.*` is append-only and served versions only move forward, so equal fingerprints mean
    equal rows.
-#}
{% macro reach_inputs(year_to_date=false) -%}
    (
        select
            district_periods.period,
            district_periods.district_code,
            'roster:' || coalesce(cast(rosters.served_version as varchar), '-')
            || '|dtks:' || coalesce(cast(district_periods.dtks_period as varchar), '-')
            || ':' || coalesce(cast(snapshots.served_version as varchar), '-')
            || '|decile:{{ eligible_max_decile() }}'
            {%- if year_to_date %}
            || '|ytd:' || coalesce(rosters_in_year.versions, '-')
            {%- endif %} as inputs_fingerprint
        from {{ ref('int_dtks_snapshots_carried_forward') }} as district_periods
        left join {{ ref('int_file_versions_served') }} as rosters
            on district_periods.period = rosters.period
            and district_periods.district_code = rosters.district_code
            and rosters.dataset = 'penerima_bantuan'
        left join {{ ref('int_file_versions_served') }} as snapshots
            on district_periods.dtks_period = snapshots.period
            and district_periods.district_code = snapshots.district_code
            and snapshots.dataset = 'dtks'
        {%- if year_to_date %}
        left join (
            select
                later.period,
                later.district_code,
                string_agg(
                    cast(earlier.period as varchar) || ':'
                    || cast(earlier.served_version as varchar),
                    ',' order by earlier.period
                ) as versions
            from {{ ref('int_dtks_snapshots_carried_forward') }} as later
            inner join {{ ref('int_file_versions_served') }} as earlier
                on later.district_code = earlier.district_code
                and earlier.dataset = 'penerima_bantuan'
                and earlier.period <= later.period
                and extract(year from earlier.period) = extract(year from later.period)
            group by
                later.period,
                later.district_code
        ) as rosters_in_year
            on district_periods.period = rosters_in_year.period
            and district_periods.district_code = rosters_in_year.district_code
        {%- endif %}
    )
{%- endmacro %}

{#- Pre-hook of those models (macros/incremental_inputs.sql). -#}
{% macro record_district_periods_to_compute(year_to_date=false) -%}
    {{ record_inputs_to_compute(reach_inputs(year_to_date), ['period', 'district_code']) }}
{%- endmacro %}

{#- The (period, district) pairs a reach model computes in this run. -#}
{% macro district_periods_to_compute(year_to_date=false) -%}
    {{ inputs_to_compute(reach_inputs(year_to_date)) }}
{%- endmacro %}

{#-
    int_dtks_households_aggregated_to_snapshots: a served DTKS snapshot's eligible households
    are counted from its served version with the eligibility threshold; one part per
    (snapshot period, district).
-#}
{% macro snapshot_inputs() -%}
    (
        select
            period,
            district_code,
            'dtks:' || cast(served_version as varchar)
            || '|decile:{{ eligible_max_decile() }}' as inputs_fingerprint
        from {{ ref('int_file_versions_served') }}
        where dataset = 'dtks'
    )
{%- endmacro %}

{#- The DTKS snapshot in effect for each (period, district) pair of `to_compute` (a CTE of the
    pairs a reach model computes), where there is one: int_households_paid flags eligibility
    with it, int_households_reached_ytd counts its eligible households. -#}
{% macro snapshots_in_effect(to_compute) -%}
    (
        select
            snapshots.period,
            snapshots.district_code,
            snapshots.dtks_period
        from {{ ref('int_dtks_snapshots_carried_forward') }} as snapshots
        inner join {{ to_compute }}
            on snapshots.period = {{ to_compute }}.period
            and snapshots.district_code = {{ to_compute }}.district_code
        where snapshots.dtks_period is not null
    )
{%- endmacro %}

{#- January 1st of the year of a date `period` (the year to date starts there). -#}
{% macro january_of(period) -%}
    cast(date_trunc('year', {{ period }}) as date)
{%- endmacro %}
