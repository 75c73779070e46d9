{#-
    Fails for every row whose `column_name` lies outside [min_value, max_value]
    (bounds optional; `inclusive: false` makes them strict). NULLs pass: pair
    with not_null where a value is required.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

with

validation as (

    select {{ column_name }} as value_tested
    from {{ model }}
    where {{ column_name }} is not null

),

validation_errors as (

    select *
    from validation
    where
        false
        {%- if min_value is not none %}
        or value_tested {{ '<' if inclusive else '<=' }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or value_tested {{ '>' if inclusive else '>=' }} {{ max_value }}
        {%- endif %}

)

select * from validation_errors

{% endtest %}
