-- Monthly sector returns per size bucket, built bottom-up from the baskets (each
-- stock in the bucket marts.universe_membership gave it at the month's start):
-- each sector-and-size return is the cap-weighted mean of its constituents'
-- total returns over the month (close of the previous month's last trading day
-- to the close of the month's last), weighted by market cap at that starting
-- close as known that day (stock_valuation_daily.market_cap: point-in-time
-- shares x the as-traded close), the same method for large and small caps
-- (there are no small-cap sector funds). A constituent without a known cap that
-- day is left out of the weights (n_cap_weighted counts those in); a sector-month
-- where none has one falls back to the equal-weighted mean (weighting 'equal').
-- The equal-weighted mean rides along. Compared with the size benchmark (var
-- 'size_benchmarks': SPY for large, IWM for small, both cap-weighted funds) and
-- with the average of the bucket's sectors; ranked within the month; 3-month
-- momentum compounds the last three monthly returns. The sector SPDR's own
-- return rides along for large.

{%- set benchmarks = var('size_benchmarks') %}

with

stock_months as (

    -- each stock in the bucket it belonged to at the month's starting close
    -- (marts.universe_membership), not today's list; a stock that was no member then
    -- is in no bucket that month
    select
        returns.period_start as month_start,
        returns.base_date,
        returns.ticker,
        membership.size_bucket,
        returns.sector,
        returns.period_return

    from {{ ref('int_stock_period_returns') }} as returns
    inner join {{ ref('universe_membership') }} as membership
        on membership.ticker = returns.ticker
        and returns.base_date >= membership.valid_from
        and (membership.valid_to is null or returns.base_date < membership.valid_to)
    where returns.period_type = 'month' and returns.sector is not null

),

base_caps as (

    -- market cap at each month's starting close, as known that day (NULL before the
    -- stock's first known share count, or when its count is stale)
    select
        ticker,
        trade_date,
        market_cap

    from {{ ref('stock_valuation_daily') }}
    where trade_date in (select distinct base_date from stock_months)
        and market_cap > 0

),

weighted_stock_months as (

    select
        stock_months.*,
        base_caps.market_cap as weight_market_cap

    from stock_months
    left join base_caps
        on base_caps.ticker = stock_months.ticker
        and base_caps.trade_date = stock_months.base_date

),

months as (

    select
        period_start as month_start,
        period_label as month_label,
        base_date,
        end_date,
        is_first_period

    from {{ ref('int_calendar_periods') }}
    where period_type = 'month'

),

benchmarks as (

    select * from (
        values
        {%- for size_bucket, ticker in benchmarks.items() %}
            ('{{ size_bucket }}', '{{ ticker }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as benchmark_legs (size_bucket, benchmark_ticker)

),

sector_funds as (

    -- the sector's fund (XLK, XLF, ...): one per sector, alphabetically first if several
    select
        sector,
        min(ticker) as sector_etf_ticker

    from {{ ref('stg_raw__universe') }}
    where kind = 'etf' and sector is not null
    group by sector

),

fund_prices as (

    select
        ticker,
        trade_date,
        total_return_index

    from {{ ref('fct_daily_prices') }}
    where ticker in (
        select benchmark_ticker from benchmarks
        union
        select sector_etf_ticker from sector_funds
    )

),

fund_months as (

    select
        months.month_start,
        fund_base.ticker,
        fund_end.total_return_index / fund_base.total_return_index - 1.0 as period_return

    from months
    inner join fund_prices as fund_base
        on fund_base.trade_date = months.base_date
    inner join fund_prices as fund_end
        on fund_end.ticker = fund_base.ticker
        and fund_end.trade_date = months.end_date

),

sector_months as (

    select
        month_start,
        size_bucket,
        sector,
        count(*) as n_constituents,
        count(weight_market_cap) as n_cap_weighted,
        avg(period_return) as equal_weight_return,
        -- names without a known cap carry no weight (both sums skip them)
        sum(weight_market_cap * period_return) / sum(weight_market_cap) as cap_weight_return

    from weighted_stock_months
    group by month_start, size_bucket, sector

),

sector_returns as (

    select
        *,
        if(n_cap_weighted > 0, 'cap', 'equal') as weighting,
        coalesce(cap_weight_return, equal_weight_return) as sector_return

    from sector_months

),

with_context as (

    select
        sector_returns.*,
        months.month_label,
        months.base_date,
        months.end_date,
        months.is_first_period,
        benchmarks.benchmark_ticker,
        benchmark_months.period_return as benchmark_return,
        avg(sector_returns.sector_return) over this_month as sector_average_return,
        rank() over (
            partition by sector_returns.month_start, sector_returns.size_bucket
            order by sector_returns.sector_return desc
        ) as return_rank,
        case
            when count(*) over last_three_months = 3
                then product(1.0 + sector_returns.sector_return) over last_three_months - 1.0
        end as momentum_3m,
        case when sector_returns.size_bucket = 'large' then sector_funds.sector_etf_ticker end
            as sector_etf_ticker,
        case when sector_returns.size_bucket = 'large' then fund_sector_months.period_return end
            as sector_etf_return

    from sector_returns
    inner join months on months.month_start = sector_returns.month_start
    left join benchmarks on benchmarks.size_bucket = sector_returns.size_bucket
    left join fund_months as benchmark_months
        on benchmark_months.month_start = sector_returns.month_start
        and benchmark_months.ticker = benchmarks.benchmark_ticker
    left join sector_funds on sector_funds.sector = sector_returns.sector
    left join fund_months as fund_sector_months
        on fund_sector_months.month_start = sector_returns.month_start
        and fund_sector_months.ticker = sector_funds.sector_etf_ticker
    window
        this_month as (partition by sector_returns.month_start, sector_returns.size_bucket),
        last_three_months as (
            partition by sector_returns.size_bucket, sector_returns.sector
            order by sector_returns.month_start
            range between interval 2 month preceding and current row
        )

),

final as (

    select
        month_start,
        month_label,
        size_bucket,
        sector,
        base_date,
        end_date,
        is_first_period,
        cast(n_constituents as integer) as n_constituents,
        weighting,
        cast(n_cap_weighted as integer) as n_cap_weighted,
        round(sector_return, 12) as sector_return,
        round(equal_weight_return, 12) as sector_equal_weight_return,
        benchmark_ticker,
        round(benchmark_return, 12) as benchmark_return,
        round(sector_return - benchmark_return, 12) as relative_to_benchmark,
        round(sector_average_return, 12) as sector_average_return,
        round(sector_return - sector_average_return, 12) as relative_to_sector_average,
        cast(return_rank as integer) as return_rank,
        round(momentum_3m, 12) as momentum_3m,
        case
            when momentum_3m is not null then cast(rank() over (
                partition by month_start, size_bucket, momentum_3m is null
                order by momentum_3m desc
            ) as integer)
        end as momentum_3m_rank,
        sector_etf_ticker,
        round(sector_etf_return, 12) as sector_etf_return

    from with_context

)

select * from final
