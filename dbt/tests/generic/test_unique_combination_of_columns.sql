{#-
    Fails for every combination of `combination_of_columns` that occurs more
    than once: the grain test of a model whose key spans several columns.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

validation as (

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as n_records

    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

)

select * from validation

{% endtest %}
