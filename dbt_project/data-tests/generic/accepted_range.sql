{#-
    Every non-NULL value lies in [min_value, max_value] (either bound optional); NULLs pass,
    as they mean "not applicable" in the marts (dbt_utils.accepted_range, re-written here).
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}

select *
from {{ model }}
where {{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %}
        or {{ column_name }} < {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} > {{ max_value }}
        {%- endif %}
    )

{% endtest %}
