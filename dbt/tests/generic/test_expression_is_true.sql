{#-
    Fails for every row where `expression` is false. Rows where it is NULL
    pass (pair with not_null where that matters).
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
