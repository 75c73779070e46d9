-- How the small- and large-cap proxies did after each Fed cut. For every cut,
-- pair (var 'event_study_pairs', legs from the relative_pairs seed: numerator =
-- small, denominator = large) and horizon h (var 'event_study_horizons', trading
-- days): total returns from the close of the last trading day strictly before
-- the decision to the close h trading days later on the market calendar
-- (int_trading_days), so h = 1 is the decision day's own close when it is a
-- trading day. A horizon running past the last loaded day keeps its row with
-- NULL end date and returns (is_complete = false).

{%- set horizons = var('event_study_horizons') %}
{%- set pairs = var('event_study_pairs') %}

with

cuts as (

    select
        decision_date,
        change_bp,
        is_first_cut_of_cycle,
        cycle_id

    from {{ ref('fomc_decisions') }}
    where direction = 'cut'

),

pairs as (

    select
        pair,
        numerator as small_ticker,
        denominator as large_ticker

    from {{ ref('relative_pairs') }}
    where pair in (
        {%- for pair in pairs %}
        '{{ pair }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )

),

trading_days as (

    select
        trade_date,
        trading_day_number

    from {{ ref('int_trading_days') }}

),

horizons as (

    select unnest([{{ horizons | join(', ') }}]) as horizon_days

),

prices as (

    select
        ticker,
        trade_date,
        total_return_index

    from {{ ref('fct_daily_prices') }}
    where ticker in (select small_ticker from pairs union select large_ticker from pairs)

),

cut_bases as (

    -- the close before the decision: the last trading day strictly before it; cuts
    -- before the first loaded trading day have none and are left out
    select
        cuts.*,
        trading_days.trade_date as base_date,
        trading_days.trading_day_number as base_day_number

    from cuts
    asof inner join trading_days
        on cuts.decision_date > trading_days.trade_date

),

events as (

    select
        pairs.pair,
        pairs.small_ticker,
        pairs.large_ticker,
        cut_bases.decision_date,
        cut_bases.change_bp,
        cut_bases.is_first_cut_of_cycle,
        cut_bases.cycle_id,
        horizons.horizon_days,
        cut_bases.base_date,
        end_days.trade_date as end_date

    from cut_bases
    cross join horizons
    cross join pairs
    left join trading_days as end_days
        on end_days.trading_day_number = cut_bases.base_day_number + horizons.horizon_days

),

measured as (

    select
        events.*,
        small_end.total_return_index / small_base.total_return_index - 1.0 as small_return,
        large_end.total_return_index / large_base.total_return_index - 1.0 as large_return

    from events
    left join prices as small_base
        on small_base.ticker = events.small_ticker
        and small_base.trade_date = events.base_date
    left join prices as small_end
        on small_end.ticker = events.small_ticker
        and small_end.trade_date = events.end_date
    left join prices as large_base
        on large_base.ticker = events.large_ticker
        and large_base.trade_date = events.base_date
    left join prices as large_end
        on large_end.ticker = events.large_ticker
        and large_end.trade_date = events.end_date

),

final as (

    select
        pair,
        decision_date,
        cast(horizon_days as integer) as horizon_days,
        small_ticker,
        large_ticker,
        change_bp,
        is_first_cut_of_cycle,
        cycle_id,
        base_date,
        end_date,
        round(small_return, 12) as small_return,
        round(large_return, 12) as large_return,
        round(small_return - large_return, 12) as relative_return,
        end_date is not null as is_complete

    from measured

)

select * from final
