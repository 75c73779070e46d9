{#-
    The claims ledger's measuring query: ONE text run in two places. dbt renders it for
    marts.claims (models/marts/claims.sql passes refs and vars); `rotation claims --file`
    renders this same file with plain Jinja (dagster_project/lib/claims_measure.py passes
    schema-qualified names on the published copy), so the CLI and the nightly ledger can
    never measure differently. Keep it plain Jinja and SQL: no ref(), var(), config() or
    other dbt-only calls inside the macro; everything it reads comes in as an argument.

    Window convention, for every metric: the base is the last close (observation) on or
    before `start`, the end the last on or before `end`; drawdown and rally run over the
    closes from that base through `end`; point metrics read the last value on or before
    `on`. measured_from / measured_to are the dates actually used.
-#}
{% macro measure_claims(claims, prices, rates, decisions, pe, price_staleness, rate_staleness, record_high_min_sessions) %}
{#- name, series, claim column holding the key, claim column holding the date #}
{%- set point_lookups = [
    ('ticker_at_start', 'prices', 'ticker', 'start_date'),
    ('ticker_at_end', 'prices', 'ticker', 'end_date'),
    ('versus_at_start', 'prices', 'versus_ticker', 'start_date'),
    ('versus_at_end', 'prices', 'versus_ticker', 'end_date'),
    ('rate_at_start', 'rates', 'series_id', 'start_date'),
    ('rate_at_end', 'rates', 'series_id', 'end_date'),
    ('rate_on', 'rates', 'series_id', 'on_date'),
] %}

with

claims as (

    select * from {{ claims }}

),

prices as (

    select
        ticker as lookup_key,
        trade_date as observed_on,
        adj_close as observed_value,
        -- record highs are on price closes for price indices (^RUT: the level quoted in
        -- commentary, never dividend-adjusted), on adjusted closes for funds and stocks
        case when starts_with(ticker, '^') then close else adj_close end as record_value

    from {{ prices }}
    where adj_close is not null
        -- only the tickers claims name (every price lookup keys on one of the two), so a
        -- handful of tickers are read, not the whole price history
        and ticker in (select ticker from claims union all select versus_ticker from claims)

),

-- The Fed target counts from the FOMC decision day. FRED's range series (DFEDTARL /
-- DFEDTARU) show a move the day after the decision, so between the decision and that
-- day they read the decided level, taken from the decisions, not FRED's stale one.
target_moves as (

    select decision_date, effective_date, new_target_lower, new_target_upper
    from {{ decisions }}
    where decision_date < effective_date

),

rates as (

    select series_id as lookup_key, obs_date as observed_on, observed_value
    from {{ rates }} as observations
    where observed_value is not null
        and not (
            series_id in ('DFEDTARL', 'DFEDTARU')
            and exists (
                select 1
                from target_moves
                where observations.obs_date >= target_moves.decision_date
                    and observations.obs_date < target_moves.effective_date
            )
        )

    union all

    select 'DFEDTARL', decision_date, new_target_lower from target_moves

    union all

    select 'DFEDTARU', decision_date, new_target_upper from target_moves

),

pe as (

    select trade_date, discount
    from {{ pe }}
    where discount is not null

),

-- point lookups: the last value on or before each date the claim names -------------
{% for name, series, key, on in point_lookups %}
{{ name }} as (

    select claims.claim_id, {{ series }}.observed_on, {{ series }}.observed_value
    from claims
    asof join {{ series }}
        on {{ series }}.lookup_key = claims.{{ key }}
        and claims.{{ on }} >= {{ series }}.observed_on

),
{% endfor %}
pe_on as (

    select claims.claim_id, pe.trade_date as observed_on, pe.discount as observed_value
    from claims
    asof join pe
        on claims.on_date >= pe.trade_date
    where claims.metric = 'pe_discount'

),

-- drawdown / rally: the closes from the base (last close on or before start) through end

window_closes as (

    select
        claims.claim_id,
        prices.observed_on as trade_date,
        prices.observed_value / max(prices.observed_value) over running - 1.0 as from_peak,
        prices.observed_value / min(prices.observed_value) over running - 1.0 as from_trough

    from claims
    inner join ticker_at_start
        on ticker_at_start.claim_id = claims.claim_id
    inner join prices
        on prices.lookup_key = claims.ticker
        and prices.observed_on between ticker_at_start.observed_on and claims.end_date
    where claims.metric in ('drawdown', 'rally')
    window running as (
        partition by claims.claim_id
        order by prices.observed_on
        rows between unbounded preceding and current row
    )

),

window_measures as (

    select
        claim_id,
        min(trade_date) as first_date,
        max(trade_date) as last_date,
        count(*) as observations,
        min(from_peak) as max_drawdown,
        max(from_trough) as max_rally

    from window_closes
    group by claim_id

),

-- record high: the close on `on` against every earlier close the warehouse holds ------

record_on as (

    select claims.claim_id, prices.observed_on, prices.record_value
    from claims
    asof join prices
        on prices.lookup_key = claims.ticker
        and claims.on_date >= prices.observed_on
    where claims.metric = 'record_high'

),

record_history as (

    select
        record_on.claim_id,
        min(prices.observed_on) as first_date,
        count(prices.observed_on) as earlier_sessions,
        -- the highest earlier close, the latest day on ties (deterministic)
        max((prices.record_value, prices.observed_on)) as earlier_high

    from record_on
    inner join claims
        on claims.claim_id = record_on.claim_id
    left join prices
        on prices.lookup_key = claims.ticker
        and prices.observed_on < record_on.observed_on
    group by record_on.claim_id

),

-- one measurement per claim ---------------------------------------------------------

measured as (

    select
        claims.*,
        case claims.metric
            when 'return' then ticker_at_end.observed_value / ticker_at_start.observed_value - 1.0
            when 'relative_return' then
                (ticker_at_end.observed_value / ticker_at_start.observed_value - 1.0)
                - (versus_at_end.observed_value / versus_at_start.observed_value - 1.0)
            when 'drawdown' then window_measures.max_drawdown
            when 'rally' then window_measures.max_rally
            when 'record_high' then
                case when record_on.record_value >= record_history.earlier_high[1]
                    then 1.0 else 0.0 end
            when 'rate' then rate_on.observed_value
            when 'rate_change' then rate_at_end.observed_value - rate_at_start.observed_value
            when 'pe_discount' then pe_on.observed_value
        end as raw_measured_value,

        case
            when claims.metric in ('return', 'relative_return') then ticker_at_start.observed_on
            when claims.metric in ('drawdown', 'rally') then window_measures.first_date
            when claims.metric = 'record_high' then record_history.first_date
            when claims.metric = 'rate_change' then rate_at_start.observed_on
            when claims.metric = 'rate' then rate_on.observed_on
            when claims.metric = 'pe_discount' then pe_on.observed_on
        end as measured_from,

        case
            when claims.metric in ('return', 'relative_return') then ticker_at_end.observed_on
            when claims.metric in ('drawdown', 'rally') then window_measures.last_date
            when claims.metric = 'record_high' then record_on.observed_on
            when claims.metric = 'rate_change' then rate_at_end.observed_on
            when claims.metric = 'rate' then rate_on.observed_on
            when claims.metric = 'pe_discount' then pe_on.observed_on
        end as measured_to,

        case
            when claims.validation_error is not null then null
            when claims.metric in ('drawdown', 'rally') then window_measures.observations
            when claims.metric = 'record_high' then record_history.earlier_sessions + 1
            when claims.metric = 'relative_return' then 4
            when claims.metric in ('return', 'rate_change') then 2
            else 1
        end as observations,

        record_on.record_value as record_close,
        record_history.earlier_high[1] as earlier_high,
        record_history.earlier_high[2] as earlier_high_date,
        record_history.earlier_sessions,

        -- fresh enough: the data reaches the claim's dates
        case
            when claims.metric = 'return' then
                ticker_at_end.observed_on >= claims.end_date - {{ price_staleness }}
                and ticker_at_start.observed_on >= claims.start_date - {{ price_staleness }}
            when claims.metric = 'relative_return' then
                ticker_at_end.observed_on >= claims.end_date - {{ price_staleness }}
                and ticker_at_start.observed_on >= claims.start_date - {{ price_staleness }}
                and versus_at_end.observed_on >= claims.end_date - {{ price_staleness }}
                and versus_at_start.observed_on >= claims.start_date - {{ price_staleness }}
            when claims.metric in ('drawdown', 'rally') then
                window_measures.last_date >= claims.end_date - {{ price_staleness }}
                and window_measures.first_date >= claims.start_date - {{ price_staleness }}
            when claims.metric = 'record_high' then
                record_on.observed_on >= claims.on_date - {{ price_staleness }}
            when claims.metric = 'rate' then
                rate_on.observed_on >= claims.on_date - {{ rate_staleness }}
            when claims.metric = 'rate_change' then
                rate_at_end.observed_on >= claims.end_date - {{ rate_staleness }}
                and rate_at_start.observed_on >= claims.start_date - {{ rate_staleness }}
            when claims.metric = 'pe_discount' then
                pe_on.observed_on >= claims.on_date - {{ price_staleness }}
        end as is_covered,

        -- a record needs a history to beat: enough closes before the day
        claims.metric is distinct from 'record_high'
            or coalesce(record_history.earlier_sessions, 0) >= {{ record_high_min_sessions }}
            as has_history

    from claims
    {%- for name, _series, _key, _on in point_lookups %}
    left join {{ name }} on {{ name }}.claim_id = claims.claim_id
    {%- endfor %}
    left join pe_on on pe_on.claim_id = claims.claim_id
    left join window_measures on window_measures.claim_id = claims.claim_id
    left join record_on on record_on.claim_id = claims.claim_id
    left join record_history on record_history.claim_id = claims.claim_id

),

judged as (

    select
        *,
        -- rounded: 1e-10 is far below any claim's precision, and it keeps results stable
        case when validation_error is null and coalesce(is_covered, false) and has_history
            then round(raw_measured_value, 10) end as measured_value,
        case
            when validation_error is not null then validation_error
            when raw_measured_value is null
                then 'no data for the claim''s ticker, series or dates'
            when not coalesce(is_covered, false)
                then 'the data stops short of the claim''s dates (values used: '
                    || coalesce(cast(measured_from as varchar) || ' to ', '')
                    || cast(measured_to as varchar) || ')'
            when not has_history
                then 'a record high needs at least {{ record_high_min_sessions }} closes before '
                    || cast(measured_to as varchar) || '; the warehouse holds '
                    || cast(coalesce(earlier_sessions, 0) as varchar)
                    || coalesce(' (from ' || cast(measured_from as varchar) || ')', '')
        end as no_data_reason

    from measured

),

verdicts as (

    select
        *,
        case
            when measured_value is null then 'no_data'
            -- the tolerance widens '=' only; one-sided claims are strict
            when comparison = '=' and round(abs(measured_value - claimed_value), 10) <= tolerance
                then 'supported'
            when comparison = '>=' and measured_value >= claimed_value then 'supported'
            when comparison = '<=' and measured_value <= claimed_value then 'supported'
            else 'contradicted'
        end as verdict

    from judged

),

final as (

    select
        claim_id,
        claim_position,
        claim_text,
        metric,
        coalesce(
            ticker || coalesce(' vs ' || versus_ticker, ''),
            series_id,
            case when metric = 'pe_discount' then 'small/large P/E' end
        ) as subject,
        claimed_value,
        measured_value,
        round(measured_value - claimed_value, 10) as difference,
        comparison,
        tolerance,
        verdict,
        measured_from,
        measured_to,
        observations,
        case
            when verdict = 'no_data' then no_data_reason
            when metric = 'record_high' then
                'close ' || cast(round(record_close, 4) as varchar)
                || ' on ' || cast(measured_to as varchar)
                || case when measured_value = 1.0 then ' is at or above' else ' is below' end
                || ' the highest earlier close ' || cast(round(earlier_high, 4) as varchar)
                || ' (' || cast(earlier_high_date as varchar) || ', '
                || cast(earlier_sessions as varchar) || ' earlier closes from '
                || cast(measured_from as varchar) || ')'
            when comparison = '=' then
                'measured ' || cast(round(measured_value, 6) as varchar)
                || ', claimed ' || cast(round(claimed_value, 6) as varchar)
                || ': off by ' || cast(round(abs(measured_value - claimed_value), 6) as varchar)
                || case when verdict = 'supported' then ', within' else ', beyond' end
                || ' the tolerance ' || cast(round(tolerance, 6) as varchar)
            else
                'measured ' || cast(round(measured_value, 6) as varchar)
                || case
                    when verdict = 'supported' then ' ' || comparison || ' '
                    when comparison = '>=' then ' < '
                    else ' > '
                end
                || 'claimed ' || cast(round(claimed_value, 6) as varchar) || ' (one-sided: no tolerance)'
        end as verdict_reason,
        no_data_reason,
        validation_error,
        claims_file

    from verdicts

)

select * from final
order by claim_position
{% endmacro %}
