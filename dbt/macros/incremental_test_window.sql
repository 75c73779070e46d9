{% macro default__get_where_subquery(relation) -%}
    {#-
        dbt's own get_where_subquery (a test's `where` config), plus the incremental test
        window: on an incremental build, a data test of a large per-ticker-per-day relation
        (var('incremental_test_windows'): relation -> date column) checks only the rows
        from ROTATION_DBT_TESTS_SINCE (YYYY-MM-DD, set by the Dagster dbt asset to the
        earliest day the loads since the last passed build could change) on. Unset (a full
        refresh, a first build, dbt by hand) tests every row.

        An environment variable read only at execution, not a `--vars` value or a
        parse-time `where`: a var or parse-time value that changes every night would make
        dbt re-parse the whole project on every build.
    -#}
    {%- set where = config.get('where', '') -%}
    {%- set window = incremental_test_window(relation) -%}
    {%- set conditions = [] -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- if window -%}{%- do conditions.append(window) -%}{%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{% macro incremental_test_window(relation) -%}
    {#-
        The filter `<date column> >= date '<since>'` for a test of `relation` on an
        incremental build, or none. Only at execution: at parse time the environment
        variable is not read, so changing it never invalidates dbt's partial parse.
    -#}
    {%- if not execute or relation is none or relation.identifier is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set since = env_var('ROTATION_DBT_TESTS_SINCE', '') | trim -%}
    {%- if not since -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- if modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', since) is none -%}
        {%- do exceptions.raise_compiler_error(
            'ROTATION_DBT_TESTS_SINCE must be a date YYYY-MM-DD, got ' ~ since
        ) -%}
    {%- endif -%}
    {%- set windows = var('incremental_test_windows', {}) -%}
    {%- set key = (relation.schema ~ '.' ~ relation.identifier) | lower -%}
    {%- if key not in windows -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return(adapter.quote(windows[key]) ~ " >= date '" ~ since ~ "'") -%}
{%- endmacro %}
