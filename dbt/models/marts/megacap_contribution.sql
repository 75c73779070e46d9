-- How much of the large-cap index's return the Magnificent 7 delivered, per
-- calendar month and year. The proxy index is every large member valid at the
-- period's start (marts.universe_membership on its first trading day: the yearly
-- reconstitution, or the labelled static list before it), Magnificent 7 included,
-- cap-weighted at the start of the period and held through it:
--     w_i = market cap_i at the base close / sum of market caps
--     r_i = total return of i over the period
--     index return = sum w_i r_i,  contribution_i = w_i r_i
--     mag7_share = sum of Mag 7 contributions / index return
--     mag7_share_of_benchmark = the same contributions / the benchmark's return
-- (var('size_benchmarks')['large'], SPY: what "share of S&P 500 gains" quotes). A
-- share is NULL when its denominator moved less than
-- var('megacap_share_min_abs_return') in absolute terms (a ratio to almost zero
-- explodes, and flips sign with the index); the contributions in return points
-- are always there.

{%- set benchmark = var('size_benchmarks')['large'] %}

with

periods as (

    select * from {{ ref('int_calendar_periods') }}

),

large_at_start as (

    -- the large members valid on each period's first trading day
    select
        periods.period_type,
        periods.period_start,
        membership.ticker,
        membership.method

    from periods
    inner join {{ ref('universe_membership') }} as membership
        on membership.size_bucket = 'large'
        and periods.first_trading_date >= membership.valid_from
        and (membership.valid_to is null or periods.first_trading_date < membership.valid_to)

),

constituents as (

    select
        period_returns.* exclude (size_bucket),
        large_at_start.method as membership_method

    from {{ ref('int_stock_period_returns') }} as period_returns
    inner join large_at_start
        on large_at_start.period_type = period_returns.period_type
        and large_at_start.period_start = period_returns.period_start
        and large_at_start.ticker = period_returns.ticker
    where period_returns.base_market_cap > 0

),

weighted as (

    select
        *,
        base_market_cap
            / sum(base_market_cap) over (partition by period_type, period_start) as start_weight

    from constituents

),

benchmark_prices as (

    select
        trade_date,
        total_return_index

    from {{ ref('fct_daily_prices') }}
    where ticker = '{{ benchmark }}'

),

benchmark_periods as (

    select
        periods.period_type,
        periods.period_start,
        period_end.total_return_index / period_base.total_return_index - 1.0 as benchmark_return

    from periods
    inner join benchmark_prices as period_base on period_base.trade_date = periods.base_date
    inner join benchmark_prices as period_end on period_end.trade_date = periods.end_date

),

aggregated as (

    select
        period_type,
        period_start,
        any_value(period_label) as period_label,
        any_value(base_date) as base_date,
        any_value(end_date) as end_date,
        any_value(is_first_period) as is_first_period,
        count(*) as n_constituents,
        string_agg(distinct membership_method, '+' order by membership_method)
            as membership_method,
        count(*) filter (where is_magnificent_7) as n_magnificent_7,
        count(*) filter (where is_weight_backfilled) as n_backfilled_weights,
        sum(base_market_cap) as base_market_cap,
        sum(start_weight) filter (where is_magnificent_7) as mag7_start_weight,
        sum(start_weight * period_return) as index_return,
        sum(start_weight * period_return) filter (where is_magnificent_7) as mag7_contribution,
        sum(start_weight * period_return) filter (where not is_magnificent_7) as rest_contribution

    from weighted
    group by period_type, period_start

),

final as (

    select
        aggregated.period_type,
        aggregated.period_start,
        aggregated.period_label,
        aggregated.base_date,
        aggregated.end_date,
        aggregated.is_first_period,
        cast(aggregated.n_constituents as integer) as n_constituents,
        aggregated.membership_method,
        cast(aggregated.n_magnificent_7 as integer) as n_magnificent_7,
        cast(aggregated.n_backfilled_weights as integer) as n_backfilled_weights,
        round(aggregated.base_market_cap, 2) as base_market_cap,
        round(coalesce(aggregated.mag7_start_weight, 0.0), 12) as mag7_start_weight,
        round(aggregated.index_return, 12) as index_return,
        round(coalesce(aggregated.mag7_contribution, 0.0), 12) as mag7_contribution,
        round(coalesce(aggregated.rest_contribution, 0.0), 12) as rest_contribution,
        round(aggregated.mag7_contribution / aggregated.mag7_start_weight, 12) as mag7_return,
        round(
            aggregated.rest_contribution
                / nullif(1.0 - coalesce(aggregated.mag7_start_weight, 0.0), 0.0),
            12
        ) as rest_return,
        case
            when abs(aggregated.index_return) >= {{ var('megacap_share_min_abs_return') }}
                then round(coalesce(aggregated.mag7_contribution, 0.0) / aggregated.index_return, 12)
        end as mag7_share,
        '{{ benchmark }}' as benchmark_ticker,
        round(benchmark_periods.benchmark_return, 12) as benchmark_return,
        case
            when abs(benchmark_periods.benchmark_return) >= {{ var('megacap_share_min_abs_return') }}
                then round(
                    coalesce(aggregated.mag7_contribution, 0.0) / benchmark_periods.benchmark_return,
                    12
                )
        end as mag7_share_of_benchmark

    from aggregated
    left join benchmark_periods
        on benchmark_periods.period_type = aggregated.period_type
        and benchmark_periods.period_start = aggregated.period_start

)

select * from final
