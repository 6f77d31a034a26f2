{#-
    Incremental reach models (int_households_paid, int_disbursements_aggregated_to_programs,
    int_households_reached_ytd) store one text `inputs_fingerprint` per (period, district):
    everything their rows of that (period, district) are computed from.

    * the served version of the district's `penerima_bantuan` roster for the period;
    * the DTKS snapshot in effect (its period and served version) and the eligibility
      threshold, which decide `is_eligible`;
    * with year_to_date: the served roster versions of every processed period of the
      district from January of the period's year up to the period.

    `raw.*` is append-only and served versions only move forward, so equal fingerprints mean
    equal rows: a (period, district) is recomputed exactly when its fingerprint is not the one
    stored -- a new month, a resubmission, a re-run of an earlier period that changes the
    carry-forward or the year to date of later ones, a new threshold. Everything else stays.
    (Rows deleted from `raw` by hand need `dbt build --full-refresh`, as for served_rows.)
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

{#-
    Pre-hook of those models: on an incremental run, delete the rows of every (period,
    district) whose stored fingerprint is no longer current (or whose period is no longer
    processed). The model then computes only the (period, district) pairs without rows, and
    appends them. A table built before the fingerprint existed (a full rebuild on every run
    until then) is emptied instead, so it is rebuilt whole once; on_schema_change
    'append_new_columns' then adds the column.
-#}
{% macro delete_stale_district_periods(year_to_date=false) -%}
    {%- if is_incremental() -%}
        {%- set stored_columns = adapter.get_columns_in_relation(this)
            | map(attribute='name') | map('lower') | list -%}
        {%- if 'inputs_fingerprint' not in stored_columns -%}
            delete from {{ this }}
        {%- else -%}
            delete from {{ this }} as stored
            where not exists (
                select 1
                from {{ reach_inputs(year_to_date) }} as current_inputs
                where current_inputs.period = stored.period
                    and current_inputs.district_code = stored.district_code
                    and current_inputs.inputs_fingerprint = stored.inputs_fingerprint
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    The (period, district) pairs a reach model computes in this run: every pair on a full
    build, otherwise the pairs without rows after delete_stale_district_periods (new or
    changed inputs, and pairs whose rows are empty).
-#}
{% macro district_periods_to_compute(year_to_date=false) -%}
    (
        select
            current_inputs.period,
            current_inputs.district_code,
            current_inputs.inputs_fingerprint
        from {{ reach_inputs(year_to_date) }} as current_inputs
        {%- if is_incremental() %}
        where not exists (
            select 1
            from {{ this }} as computed
            where computed.period = current_inputs.period
                and computed.district_code = current_inputs.district_code
        )
        {%- endif %}
    )
{%- endmacro %}
