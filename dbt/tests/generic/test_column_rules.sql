{#-
    Every column rule of a relation in one test: fails with one row per failing
    (column, rule) (`column_name`, `rule`, `failing_rows`), so a failure names the column,
    the rule broken and how many rows; no rows when every rule holds.

    Arguments, each optional, at least one given:
    - `not_null`: the columns that must be filled (rule 'not_null').
    - `ranges`: column -> `{min_value: .., max_value: .., inclusive: ..}`, either bound
      optional (at least one given), `inclusive: false` making both strict (default true)
      (rule 'range').
    - `values`: column -> its accepted values, compared as dbt's built-in
      `accepted_values` does by default (quote: true): each value is a string literal, so
      `[large, small]` reads `not in ('large', 'small')` (rule 'values').
    NULLs pass `ranges` and `values`: `not_null` says which columns must be filled.

    Why one test for all three: dbt's per-column not_null / accepted_range /
    accepted_values, or one test per kind of rule, cost one dbt node, one scan of the
    relation and one Dagster asset check each, on every build. This is one node, one
    scan, one Dagster check per relation. A rule that needs its own config (a `where`, a
    severity) is a second column_rules test on the relation, since a test has one config.
    It reads `{{ model }}`, so a test's `where` config and the incremental test window
    (macros/incremental_test_window.sql) apply exactly as they do to any other test.
-#}
{% test column_rules(model, not_null=none, ranges=none, values=none) %}

{%- set prefix = 'column_rules on ' ~ model ~ ': ' -%}
{%- if not_null is none and ranges is none and values is none -%}
    {%- do exceptions.raise_compiler_error(
        prefix ~ 'give at least one of not_null (list of columns), ranges (column -> '
        ~ '{min_value, max_value, inclusive}) and values (column -> list of accepted values)'
    ) -%}
{%- endif -%}

{#- Each rule as (column, rule, condition true on a failing row), in argument order. -#}
{%- set checks = [] -%}

{%- if not_null is not none -%}
    {%- if not_null is string or not_null is mapping or not_null is not iterable
          or not_null | length == 0 -%}
        {%- do exceptions.raise_compiler_error(
            prefix ~ 'not_null must be a non-empty list of columns, got ' ~ not_null
        ) -%}
    {%- endif -%}
    {%- for column_name in not_null -%}
        {%- do checks.append({
            'column_name': column_name,
            'rule': 'not_null',
            'fails': adapter.quote(column_name) ~ ' is null',
        }) -%}
    {%- endfor -%}
{%- endif -%}

{%- if ranges is not none -%}
    {%- set range_keys = ['min_value', 'max_value', 'inclusive'] -%}
    {%- if ranges is not mapping or ranges | length == 0 -%}
        {%- do exceptions.raise_compiler_error(
            prefix ~ 'ranges must be a non-empty mapping of column -> '
            ~ '{min_value, max_value, inclusive}, got ' ~ ranges
        ) -%}
    {%- endif -%}
    {%- for column_name, bounds in ranges.items() -%}
        {%- if bounds is not mapping
              or bounds.keys() | reject('in', range_keys) | list | length > 0
              or (bounds.get('min_value') is none and bounds.get('max_value') is none)
              or bounds.get('inclusive', true) is not boolean -%}
            {%- do exceptions.raise_compiler_error(
                prefix ~ 'ranges column ' ~ column_name ~ ' needs min_value and/or max_value '
                ~ '(and optionally inclusive: true/false), nothing else; got ' ~ bounds
            ) -%}
        {%- endif -%}
        {%- set inclusive = bounds.get('inclusive', true) -%}
        {%- set outside = [] -%}
        {%- if bounds.get('min_value') is not none -%}
            {%- do outside.append(
                adapter.quote(column_name) ~ (' < ' if inclusive else ' <= ') ~ bounds['min_value']
            ) -%}
        {%- endif -%}
        {%- if bounds.get('max_value') is not none -%}
            {%- do outside.append(
                adapter.quote(column_name) ~ (' > ' if inclusive else ' >= ') ~ bounds['max_value']
            ) -%}
        {%- endif -%}
        {%- do checks.append({
            'column_name': column_name,
            'rule': 'range',
            'fails': outside | join(' or '),
        }) -%}
    {%- endfor -%}
{%- endif -%}

{%- if values is not none -%}
    {%- if values is not mapping or values | length == 0 -%}
        {%- do exceptions.raise_compiler_error(
            prefix ~ 'values must be a non-empty mapping of column -> list of accepted values, got '
            ~ values
        ) -%}
    {%- endif -%}
    {%- for column_name, accepted in values.items() -%}
        {%- if accepted is string or accepted is mapping or accepted is not iterable
              or accepted | length == 0 -%}
            {%- do exceptions.raise_compiler_error(
                prefix ~ 'values column ' ~ column_name
                ~ ' needs a non-empty list of accepted values, got ' ~ accepted
            ) -%}
        {%- endif -%}
        {%- set literals = [] -%}
        {%- for value in accepted -%}
            {%- do literals.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
        {%- endfor -%}
        {%- do checks.append({
            'column_name': column_name,
            'rule': 'values',
            'fails': adapter.quote(column_name) ~ ' not in (' ~ literals | join(', ') ~ ')',
        }) -%}
    {%- endfor -%}
{%- endif %}

{{ column_rule_failures(model, checks) }}

{% endtest %}
