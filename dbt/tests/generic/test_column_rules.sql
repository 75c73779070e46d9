{#-
    Every rule of a relation in one test: its grain, its other unique columns, its column
    rules and its row conditions. Fails with one row per failing rule (`column_name`,
    `rule`, `failing_rows`), so a failure names the column(s), the rule broken and how many
    rows; no rows when every rule holds.

    Arguments, each optional, at least one given; the rows come in this order:
    - `grain`: the columns that together identify a row, one row per combination (rule
      'grain', `column_name` the columns joined with ', '). `failing_rows` counts the rows
      whose combination occurs more than once (two rows sharing a key count 2). Rows with
      NULL key parts group together, as in a GROUP BY: two rows with the same NULL part
      and equal other parts are duplicates (`not_null` says which key parts must be filled).
    - `unique`: columns each unique on its own, besides the grain (rule 'unique'), as
      dbt's built-in `unique` test: NULLs are left out (any number of rows may be NULL).
      `failing_rows` counts the non-NULL rows whose value occurs more than once.
    - `not_null`: the columns that must be filled (rule 'not_null').
    - `ranges`: column -> `{min_value: .., max_value: .., inclusive: ..}`, either bound
      optional (at least one given), `inclusive: false` making both strict (default true)
      (rule 'range').
    - `values`: column -> its accepted values, compared as dbt's built-in
      `accepted_values` does by default (quote: true): each value is a string literal, so
      `[large, small]` reads `not in ('large', 'small')` (rule 'values').
    - `expressions`: SQL boolean conditions over the relation's columns that must hold on
      every row (rule 'expression', `column_name` the condition's text); `failing_rows`
      counts the rows where it is false.
    NULLs pass `ranges`, `values` and `expressions` (a condition that is NULL on a row
    holds there): `not_null` says which columns must be filled.

    Why one test for all of them: dbt's per-column unique / not_null / accepted_range /
    accepted_values, a grain test and an expression test per condition, cost one dbt node,
    one query and one Dagster asset check each, on every build. This is one node, one query
    and one Dagster check per relation: one scan for the row rules, plus one GROUP BY per
    key (grain, unique column) in the same query (macros/column_rule_failures.sql). A rule
    that needs its own config (a `where`, a severity) is a second column_rules test on the
    relation, since a test has one config. It reads `{{ model }}`, so a test's `where`
    config and the incremental test window (macros/incremental_test_window.sql) apply
    exactly as they do to any other test.
-#}
{% test column_rules(
    model, grain=none, unique=none, not_null=none, ranges=none, values=none, expressions=none
) %}

{%- set prefix = 'column_rules on ' ~ model ~ ': ' -%}
{%- if grain is none and unique is none and not_null is none and ranges is none
      and values is none and expressions is none -%}
    {%- do exceptions.raise_compiler_error(
        prefix ~ 'give at least one of grain (list of columns), unique (list of columns), '
        ~ 'not_null (list of columns), ranges (column -> {min_value, max_value, inclusive}), '
        ~ 'values (column -> list of accepted values) and expressions (list of SQL conditions)'
    ) -%}
{%- endif -%}

{#-
    Each rule in argument order: a row rule as (column, rule, condition true on a failing
    row), a key rule as (columns, rule, key columns, whether NULL keys are left out).
-#}
{%- set checks = [] -%}

{%- if grain is not none -%}
    {%- if not is_list_of_text(grain) -%}
        {%- do exceptions.raise_compiler_error(
            prefix ~ 'grain must be a non-empty list of columns (one row per combination), got '
            ~ grain
        ) -%}
    {%- endif -%}
    {%- do checks.append({
        'column_name': grain | join(', '),
        'rule': 'grain',
        'key': grain,
        'skip_null_keys': false,
    }) -%}
{%- endif -%}

{%- if unique is not none -%}
    {%- if not is_list_of_text(unique) -%}
        {%- do exceptions.raise_compiler_error(
            prefix ~ 'unique must be a non-empty list of single columns, each unique on its '
            ~ 'own (a combination of columns is the grain), got ' ~ unique
        ) -%}
    {%- endif -%}
    {%- for column_name in unique -%}
        {%- do checks.append({
            'column_name': column_name,
            'rule': 'unique',
            'key': [column_name],
            'skip_null_keys': true,
        }) -%}
    {%- endfor -%}
{%- endif -%}

{%- if not_null is not none -%}
    {%- if not is_list_of_text(not_null) -%}
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
{%- endif -%}

{%- if expressions is not none -%}
    {%- if not is_list_of_text(expressions) -%}
        {%- do exceptions.raise_compiler_error(
            prefix ~ 'expressions must be a non-empty list of SQL conditions (text), got '
            ~ expressions
        ) -%}
    {%- endif -%}
    {%- for expression in expressions -%}
        {%- do checks.append({
            'column_name': expression | trim,
            'rule': 'expression',
            'fails': 'not (' ~ expression ~ ')',
        }) -%}
    {%- endfor -%}
{%- endif %}

{{ column_rule_failures(model, checks) }}

{% endtest %}

