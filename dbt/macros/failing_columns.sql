{#-
    The end of a per-relation column test (not_null_columns, columns_in_range,
    columns_in_values): from `counts_cte`, whose columns n_1, n_2, ... count the bad rows
    of `column_names` in order, one row per column with any (`column_name`, `count_name`).
-#}
{% macro failing_columns(column_names, counts_cte, count_name) %}

per_column as (

    {%- for column_name in column_names %}
    select '{{ column_name }}' as column_name, {{ adapter.quote('n_' ~ loop.index) }} as {{ count_name }} from {{ counts_cte }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select column_name, {{ count_name }}
from per_column
where {{ count_name }} > 0

{% endmacro %}
