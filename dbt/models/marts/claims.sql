-- The claims ledger: each claim from the claims file measured against the marts.
-- Price claims read adjusted closes (marts.fct_daily_prices): the base is the last
-- close on or before `start`, the end the last close on or before `end`. A claim whose
-- data stops short of its dates, by more than `claims_max_staleness_days` for prices
-- or `claims_max_rate_staleness_days` for rates, is `no_data` rather than measured on
-- stale values.

{%- set price_staleness = var('claims_max_staleness_days', 7) %}
{%- set rate_staleness = var('claims_max_rate_staleness_days', 40) %}
{#- name, series, claim column holding the key, claim column holding the date #}
{%- set point_lookups = [
    ('ticker_at_start', 'prices', 'ticker', 'start_date'),
    ('ticker_at_end', 'prices', 'ticker', 'end_date'),
    ('versus_at_start', 'prices', 'versus_ticker', 'start_date'),
    ('versus_at_end', 'prices', 'versus_ticker', 'end_date'),
    ('ticker_on', 'prices', 'ticker', 'on_date'),
    ('rate_at_start', 'rates', 'series_id', 'start_date'),
    ('rate_at_end', 'rates', 'series_id', 'end_date'),
    ('rate_on', 'rates', 'series_id', 'on_date'),
] %}

with

claims as (

    select * from {{ ref('stg_raw__claims') }}

),

prices as (

    select ticker as lookup_key, trade_date as observed_on, adj_close as observed_value
    from {{ ref('fct_daily_prices') }}
    where adj_close is not null
        -- only the tickers claims name (every price lookup keys on one of the two), so a
        -- handful of tickers are read, not the whole price history
        and ticker in (select ticker from claims union all select versus_ticker from claims)

),

rates as (

    select series_id as lookup_key, obs_date as observed_on, observed_value
    from {{ ref('stg_raw__rates') }}
    where observed_value is not null

),

pe as (

    select trade_date, discount
    from {{ ref('pe_discount') }}
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

-- window measures: largest fall / rise inside [start, end] --------------------------

window_closes as (

    select
        claims.claim_id,
        prices.observed_on as trade_date,
        prices.observed_value / max(prices.observed_value) over running - 1.0 as from_peak,
        prices.observed_value / min(prices.observed_value) over running - 1.0 as from_trough

    from claims
    inner join prices
        on prices.lookup_key = claims.ticker
        and prices.observed_on between claims.start_date and claims.end_date
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

-- record high: the close on `on` against every close up to it ------------------------

record_checks as (

    select
        claims.claim_id,
        max(prices.observed_value) as highest_close,
        count(*) as observations

    from claims
    inner join ticker_on
        on ticker_on.claim_id = claims.claim_id
    inner join prices
        on prices.lookup_key = claims.ticker
        and prices.observed_on <= ticker_on.observed_on
    where claims.metric = 'record_high'
    group by claims.claim_id

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
                case when ticker_on.observed_value >= record_checks.highest_close * (1 - 1e-9)
                    then 1.0 else 0.0 end
            when 'rate' then rate_on.observed_value
            when 'rate_change' then rate_at_end.observed_value - rate_at_start.observed_value
            when 'pe_discount' then pe_on.observed_value
        end as raw_measured_value,

        case
            when claims.metric in ('return', 'relative_return') then ticker_at_start.observed_on
            when claims.metric in ('drawdown', 'rally') then window_measures.first_date
            when claims.metric = 'rate_change' then rate_at_start.observed_on
        end as measured_from,

        case
            when claims.metric in ('return', 'relative_return') then ticker_at_end.observed_on
            when claims.metric in ('drawdown', 'rally') then window_measures.last_date
            when claims.metric = 'record_high' then ticker_on.observed_on
            when claims.metric = 'rate_change' then rate_at_end.observed_on
            when claims.metric = 'rate' then rate_on.observed_on
            when claims.metric = 'pe_discount' then pe_on.observed_on
        end as measured_to,

        case
            when claims.metric in ('drawdown', 'rally') then window_measures.observations
            when claims.metric = 'record_high' then record_checks.observations
            when claims.metric = 'relative_return' then 4
            when claims.metric in ('return', 'rate_change') then 2
            else 1
        end as observations,

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
                and window_measures.first_date <= claims.start_date + {{ price_staleness }}
            when claims.metric = 'record_high' then
                ticker_on.observed_on >= claims.on_date - {{ price_staleness }}
            when claims.metric = 'rate' then
                rate_on.observed_on >= claims.on_date - {{ rate_staleness }}
            when claims.metric = 'rate_change' then
                rate_at_end.observed_on >= claims.end_date - {{ rate_staleness }}
                and rate_at_start.observed_on >= claims.start_date - {{ rate_staleness }}
            when claims.metric = 'pe_discount' then
                pe_on.observed_on >= claims.on_date - {{ price_staleness }}
        end as is_covered

    from claims
    {%- for name, _series, _key, _on in point_lookups %}
    left join {{ name }} on {{ name }}.claim_id = claims.claim_id
    {%- endfor %}
    left join pe_on on pe_on.claim_id = claims.claim_id
    left join window_measures on window_measures.claim_id = claims.claim_id
    left join record_checks on record_checks.claim_id = claims.claim_id

),

judged as (

    select
        *,
        -- rounded: 1e-10 is far below any claim's precision, and it keeps results stable
        case when validation_error is null and coalesce(is_covered, false)
            then round(raw_measured_value, 10) end as measured_value

    from measured

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
        measured_value - claimed_value as difference,
        comparison,
        tolerance,
        case
            when measured_value is null then 'no_data'
            when comparison = '=' and abs(measured_value - claimed_value) <= tolerance + 1e-9
                then 'supported'
            when comparison = '>=' and measured_value >= claimed_value - tolerance - 1e-9
                then 'supported'
            when comparison = '<=' and measured_value <= claimed_value + tolerance + 1e-9
                then 'supported'
            else 'contradicted'
        end as verdict,
        measured_from,
        measured_to,
        observations,
        case
            when validation_error is not null then validation_error
            when raw_measured_value is null then 'no data for the claim''s ticker, series or dates'
            when not coalesce(is_covered, false)
                then 'the data stops short of the claim''s dates (last value '
                    || cast(measured_to as varchar) || ')'
        end as no_data_reason,
        validation_error,
        claims_file

    from judged

)

select * from final
order by claim_position
