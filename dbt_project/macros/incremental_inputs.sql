{#-
    Incremental models that recompute a part of their rows only when what the part is computed
    from changed. Each part is a group of `keys` (a period, or a (period, district) pair); the
    model stores one text `inputs_fingerprint` per part, and `current_inputs` is a subquery of
    every part's keys with the fingerprint of its inputs now (macros/reach_inputs.sql for the
    reach models, macros/period_inputs.sql for those keyed by period alone).

    Equal fingerprints mean equal rows, so a part is recomputed exactly when its stored
    fingerprint is not the current one -- a new month, a resubmission, a re-run of an earlier
    period, a new setting. Everything else stays. (Rows deleted from `raw` by hand need
    `dbt build --full-refresh`, as for served_rows.)
-#}

{#-
    Pre-hook: on an incremental run, delete the rows of every part whose stored fingerprint is
    no longer current (or whose part no longer exists). The model then computes only the parts
    without rows (inputs_to_compute) and appends them. A table built before the fingerprint
    existed (a full rebuild on every run until then) is emptied instead, so it is rebuilt whole
    once; on_schema_change 'append_new_columns' then adds the column.
-#}
{% macro delete_stale_inputs(current_inputs, keys) -%}
    {%- if is_incremental() -%}
        {%- set stored_columns = adapter.get_columns_in_relation(this)
            | map(attribute='name') | map('lower') | list -%}
        {%- if 'inputs_fingerprint' not in stored_columns -%}
            delete from {{ this }}
        {%- else -%}
            delete from {{ this }} as stored
            where not exists (
                select 1
                from {{ current_inputs }} as current_inputs
                where {{ same_keys('current_inputs', 'stored', keys) }}
                    and current_inputs.inputs_fingerprint = stored.inputs_fingerprint
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    The parts a model computes in this run, with their current fingerprint: every part on a
    full build, otherwise the parts without rows after delete_stale_inputs (new or changed
    inputs, and parts whose rows are empty -- recomputing those finds nothing again).
-#}
{% macro inputs_to_compute(current_inputs, keys) -%}
    (
        select current_inputs.*
        from {{ current_inputs }} as current_inputs
        {%- if is_incremental() %}
        where not exists (
            select 1
            from {{ this }} as computed
            where {{ same_keys('computed', 'current_inputs', keys) }}
        )
        {%- endif %}
    )
{%- endmacro %}
