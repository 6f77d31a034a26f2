{#-
    "No data" and "zero" must never look the same (marts spec): the column is NULL in exactly
    the rows where `condition` holds, and filled in every other row.
-#}
{% test null_exactly_when(model, column_name, condition) %}

select *
from {{ model }}
where ({{ column_name }} is null) <> coalesce(({{ condition }}), false)

{% endtest %}
