{#-
    numerator / denominator as a double, NULL when the denominator is 0 or NULL (marts spec:
    rates are fractions, NULL when the denominator is 0). Both operands are cast because `5/2`
    is 2 in PostgreSQL and 2.5 in DuckDB.
-#}
{% macro fraction(numerator, denominator) -%}
    (cast({{ numerator }} as double precision)
        / nullif(cast({{ denominator }} as double precision), 0))
{%- endmacro %}
