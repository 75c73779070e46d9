-- The floor: the three core marts in one hand-written DuckDB script, no orchestration.
--
-- Same inputs as the build (the raw Parquet files the harness wrote from the sample
-- source, loaded into tables first, as the build loads raw.*) and the same definitions as the dbt models (staging -> int_prices_adjusted ->
-- fct_daily_prices; relative_performance; int_split_factors ->
-- int_stock_earnings_quarterly -> int_stock_valuation_daily -> pe_discount), with the
-- dbt vars written in as constants: lookbacks 21/63/126/252 trading rows, a 63-row
-- correlation window, fundamentals used up to 270 days past their period end, a basket
-- P/E needs 50% coverage, snapshots at most 7 days old, benchmarks IWM (small) / SPY
-- (large). No tests, no checks, no intermediate views that are not needed.
--
-- {data} and {seeds} are replaced by the driver (benchmarks/floor.py).

-- raw inputs, loaded once into tables (as the build loads raw.*) --------------------

create or replace table raw_prices as
select * from read_parquet('{data}/prices.parquet');

create or replace table raw_fundamentals as
select * from read_parquet('{data}/fundamentals.parquet');

create or replace table raw_rates as
select * from read_parquet('{data}/rates.parquet');

create or replace table raw_universe as
select * from read_parquet('{data}/universe.parquet');

create or replace table raw_valuation_snapshots as
select * from read_parquet('{data}/valuation_snapshots.parquet');

-- typed as staging types them

create or replace temp view prices_in as
select
    cast(ticker as varchar) as ticker,
    cast(trade_date as date) as trade_date,
    cast(close as double) as close,
    coalesce(cast(dividends as double), 0.0) as dividends,
    case when splits is null or splits <= 0 then 1.0 else cast(splits as double) end
        as split_ratio
from raw_prices
where close is not null and close > 0
    -- ticker-days the build's quality gates hold out of the marts (its verdicts, an
    -- input here: the floor computes the marts, not the gates)
    and not exists (
        select 1 from read_parquet('{held_out}') as held_out
        where held_out.ticker = raw_prices.ticker and held_out.trade_date = raw_prices.trade_date
    );

create or replace temp table universe as
select
    cast(ticker as varchar) as ticker,
    lower(kind) as kind,
    lower(size) as size_bucket,
    cast(is_magnificent_7 as boolean) as is_magnificent_7
from raw_universe;

-- marts.fct_daily_prices ---------------------------------------------------------------

create or replace table fct_daily_prices as
with factors as (
    select
        *,
        case
            when dividends > 0
                and lag(close) over by_ticker > dividends
                then 1.0 - dividends / lag(close) over by_ticker
            else 1.0
        end / split_ratio as adjustment_factor
    from prices_in
    window by_ticker as (partition by ticker order by trade_date)
),
adjusted as (
    select
        ticker, trade_date, close, dividends, split_ratio,
        close * coalesce(
            product(adjustment_factor) over (
                partition by ticker order by trade_date
                rows between 1 following and unbounded following
            ),
            1.0
        ) as adj_close
    from factors
)
select
    ticker,
    trade_date,
    close,
    dividends,
    split_ratio,
    adj_close,
    round(adj_close / lag(adj_close) over by_ticker - 1.0, 12) as daily_return,
    round(
        100.0 * adj_close / first_value(adj_close) over (
            by_ticker rows between unbounded preceding and current row
        ),
        10
    ) as total_return_index
from adjusted
window by_ticker as (partition by ticker order by trade_date);

-- marts.relative_performance -------------------------------------------------------------

create or replace table relative_performance as
with pairs as (
    select * from read_csv('{seeds}/relative_pairs.csv', header = true, all_varchar = true)
),
dgs2_obs as (
    select cast(obs_date as date) as obs_date, max(cast(value as double)) as dgs2
    from raw_rates
    where upper(trim(series_id)) = 'DGS2' and value is not null
    group by 1
),
rate_days as (
    -- every day between the first and last observation of any series, forward-filled
    select cast(unnest(generate_series(min(obs_date), max(obs_date), interval 1 day)) as date)
        as rate_date
    from raw_rates
    where value is not null
),
dgs2_daily as (
    select
        rate_days.rate_date,
        last_value(dgs2_obs.dgs2 ignore nulls) over (
            order by rate_days.rate_date rows between unbounded preceding and current row
        ) as dgs2
    from rate_days
    left join dgs2_obs on dgs2_obs.obs_date = rate_days.rate_date
),
pair_days as (
    select
        pairs.pair,
        n.trade_date,
        pairs.numerator,
        pairs.denominator,
        n.total_return_index as numerator_index,
        d.total_return_index as denominator_index,
        n.total_return_index / d.total_return_index as ratio
    from pairs
    join fct_daily_prices as n on n.ticker = pairs.numerator
    join fct_daily_prices as d on d.ticker = pairs.denominator and d.trade_date = n.trade_date
),
moves as (
    select
        pair_days.*,
        numerator_index / lag(numerator_index) over h
            - denominator_index / lag(denominator_index) over h as spread_daily_return,
        dgs2_daily.dgs2 - lag(dgs2_daily.dgs2) over h as dgs2_change,
        year(pair_days.trade_date) as yr
    from pair_days
    left join dgs2_daily on dgs2_daily.rate_date = pair_days.trade_date
    window h as (partition by pair_days.pair order by pair_days.trade_date)
),
year_ends as (
    select pair, year(trade_date) as yr, arg_max(ratio, trade_date) as year_end_ratio
    from pair_days
    group by 1, 2
),
measured as (
    select
        moves.*,
        case
            when count(spread_daily_return * dgs2_change) over c = 63
                then corr(spread_daily_return, dgs2_change) over c
        end as corr63,
        ratio / lag(ratio, 21) over h - 1.0 as r1m,
        ratio / lag(ratio, 63) over h - 1.0 as r3m,
        ratio / lag(ratio, 126) over h - 1.0 as r6m,
        ratio / lag(ratio, 252) over h - 1.0 as r12m,
        ratio / year_ends.year_end_ratio - 1.0 as rytd,
        ratio / max(ratio) over (h rows between unbounded preceding and current row) - 1.0
            as dd
    from moves
    left join year_ends on year_ends.pair = moves.pair and year_ends.yr = moves.yr - 1
    window
        h as (partition by moves.pair order by moves.trade_date),
        c as (
            partition by moves.pair order by moves.trade_date
            rows between 62 preceding and current row
        )
)
select
    pair,
    trade_date,
    numerator,
    denominator,
    numerator_index,
    denominator_index,
    round(ratio, 12) as ratio,
    round(r1m, 12) as rel_return_1m,
    round(r3m, 12) as rel_return_3m,
    round(r6m, 12) as rel_return_6m,
    round(r12m, 12) as rel_return_12m,
    round(rytd, 12) as rel_return_ytd,
    least(round(dd, 12), 0.0) as ratio_drawdown,
    round(spread_daily_return, 12) as spread_daily_return,
    round(dgs2_change, 6) as dgs2_change,
    case when not isnan(corr63) then round(corr63, 12) end as spread_dgs2_corr_63d
from measured;

-- marts.pe_discount ------------------------------------------------------------------

create or replace table pe_discount as
with splits as (
    select
        ticker,
        trade_date,
        product(split_ratio) over (
            partition by ticker order by trade_date
            rows between unbounded preceding and current row
        ) as factor
    from fct_daily_prices
    where split_ratio <> 1.0
),
fundamentals as (
    select
        cast(f.ticker as varchar) as ticker,
        cast(f.period_end as date) as period_end,
        coalesce(cast(f.report_date as date), cast(f.period_end + interval 45 day as date))
            as available_date,
        cast(f.eps as double) as eps,
        cast(f.eps_estimate as double) as eps_estimate,
        cast(f.shares_outstanding as double) as shares_outstanding,
        coalesce(s.factor, 1.0) as split_factor
    from raw_fundamentals as f
    asof left join splits as s
        on s.ticker = f.ticker and cast(f.period_end as date) >= s.trade_date
),
neighbours as (
    select
        *,
        coalesce(
            shares_outstanding / split_factor,
            last_value(shares_outstanding / split_factor ignore nulls) over (
                q rows between unbounded preceding and 1 preceding
            )
        ) as base_shares,
        lead(period_end) over q as next_period_end,
        lead(eps_estimate) over q as next_eps_estimate,
        lead(split_factor) over q as next_split_factor
    from fundamentals
    window q as (partition by ticker order by period_end)
),
reported as (
    select *, eps * base_shares * split_factor as earnings_usd
    from neighbours
    where eps is not null
),
quarters as (
    select
        ticker,
        period_end,
        max(available_date) over four as known_from,
        base_shares,
        case
            when count(earnings_usd) over four = 4
                and period_end - min(period_end) over four <= 300
                then sum(earnings_usd) over four
        end as ttm_earnings_usd,
        case
            when next_eps_estimate is not null and next_period_end - period_end <= 100
                then 4.0 * next_eps_estimate * base_shares * next_split_factor
        end as forward_earnings_usd
    from reported
    window four as (
        partition by ticker order by period_end rows between 3 preceding and current row
    )
),
states as (
    select * from quarters
    qualify row_number() over (partition by ticker, known_from order by period_end desc) = 1
),
basket_prices as (
    select p.ticker, p.trade_date, p.close, u.size_bucket, u.is_magnificent_7
    from fct_daily_prices as p
    join universe as u on u.ticker = p.ticker
    where u.kind = 'stock' and u.size_bucket in ('large', 'small')
),
with_split as (
    select basket_prices.*, coalesce(splits.factor, 1.0) as split_factor
    from basket_prices
    asof left join splits
        on splits.ticker = basket_prices.ticker and basket_prices.trade_date >= splits.trade_date
),
stocks as (
    select
        w.trade_date,
        w.size_bucket,
        w.is_magnificent_7,
        w.close * s.base_shares * w.split_factor as cap,
        s.ttm_earnings_usd as ttm,
        s.forward_earnings_usd as fwd,
        coalesce(w.trade_date - s.period_end <= 270, false) as fresh
    from with_split as w
    asof left join states as s
        on s.ticker = w.ticker and w.trade_date >= s.known_from
),
valued as (
    select
        trade_date,
        size_bucket,
        is_magnificent_7,
        if(fresh, cap, null) as cap,
        if(fresh, ttm, null) as ttm,
        if(fresh, fwd, null) as fwd
    from stocks
),
basket_days as (
    select
        trade_date,
        size_bucket,
        count(*) as n_priced,
        count(*) filter (where cap is not null and ttm is not null) as n_trailing,
        count(*) filter (where cap is not null and fwd is not null) as n_forward,
        sum(cap) filter (where cap is not null and ttm is not null) as trailing_cap,
        sum(ttm) filter (where cap is not null and ttm is not null) as ttm,
        sum(cap) filter (where cap is not null and fwd is not null) as forward_cap,
        sum(fwd) filter (where cap is not null and fwd is not null) as fwd,
        sum(cap) filter (where cap is not null and ttm is not null and not is_magnificent_7)
            as trailing_cap_ex7,
        sum(ttm) filter (where cap is not null and ttm is not null and not is_magnificent_7)
            as ttm_ex7
    from valued
    group by 1, 2
),
basket_pe as (
    select
        b.*,
        c.n_constituents,
        case when n_trailing >= 0.5 * n_priced and ttm > 0 then trailing_cap / ttm end
            as trailing_pe,
        case when n_forward >= 0.5 * n_priced and fwd > 0 then forward_cap / fwd end
            as forward_pe,
        case when n_trailing >= 0.5 * n_priced and ttm_ex7 > 0 then trailing_cap_ex7 / ttm_ex7 end
            as trailing_pe_ex7
    from basket_days as b
    left join (
        select size_bucket, count(*) as n_constituents
        from universe
        where kind = 'stock' and size_bucket in ('large', 'small')
        group by 1
    ) as c on c.size_bucket = b.size_bucket
),
daily as (
    select
        t.trade_date,
        s.n_constituents as small_constituents,
        s.n_priced as small_names_priced,
        s.n_trailing as small_names_trailing,
        s.n_forward as small_names_forward,
        s.trailing_cap as small_market_cap,
        s.ttm as small_ttm_earnings,
        s.trailing_pe as small_trailing_pe,
        s.fwd as small_forward_earnings,
        s.forward_pe as small_forward_pe,
        l.n_constituents as large_constituents,
        l.n_priced as large_names_priced,
        l.n_trailing as large_names_trailing,
        l.n_forward as large_names_forward,
        l.trailing_cap as large_market_cap,
        l.ttm as large_ttm_earnings,
        l.trailing_pe as large_trailing_pe,
        l.fwd as large_forward_earnings,
        l.forward_pe as large_forward_pe,
        l.trailing_pe_ex7 as large_ex_mag7_trailing_pe,
        s.trailing_pe / l.trailing_pe - 1.0 as discount,
        s.forward_pe / l.forward_pe - 1.0 as forward_discount
    from (select distinct trade_date from fct_daily_prices) as t
    left join basket_pe as s on s.trade_date = t.trade_date and s.size_bucket = 'small'
    left join basket_pe as l on l.trade_date = t.trade_date and l.size_bucket = 'large'
),
snapshots as (
    select
        cast(ticker as varchar) as ticker,
        cast(snapshot_date as date) as snapshot_date,
        cast(trailing_pe as double) as trailing_pe,
        cast(forward_pe as double) as forward_pe
    from raw_valuation_snapshots
),
with_snapshots as (
    select
        daily.*,
        if(daily.trade_date - ss.snapshot_date <= 7, ss.trailing_pe, null)
            as small_snapshot_trailing_pe,
        if(daily.trade_date - ss.snapshot_date <= 7, ss.forward_pe, null)
            as small_snapshot_forward_pe,
        if(daily.trade_date - ls.snapshot_date <= 7, ls.trailing_pe, null)
            as large_snapshot_trailing_pe,
        if(daily.trade_date - ls.snapshot_date <= 7, ls.forward_pe, null)
            as large_snapshot_forward_pe
    from daily
    asof left join (select * from snapshots where ticker = 'IWM') as ss
        on daily.trade_date >= ss.snapshot_date
    asof left join (select * from snapshots where ticker = 'SPY') as ls
        on daily.trade_date >= ls.snapshot_date
),
trailing_history as (
    select
        trade_date,
        cume_dist(order by discount) over w as pct,
        median(discount) over w as med
    from daily
    where discount is not null
    window w as (order by trade_date rows between unbounded preceding and current row)
),
forward_history as (
    select
        trade_date,
        cume_dist(order by forward_discount) over w as pct,
        median(forward_discount) over w as med
    from daily
    where forward_discount is not null
    window w as (order by trade_date rows between unbounded preceding and current row)
)
select
    d.trade_date,
    cast(coalesce(small_constituents, 0) as integer) as small_constituents,
    cast(coalesce(small_names_priced, 0) as integer) as small_names_priced,
    cast(coalesce(small_names_trailing, 0) as integer) as small_names_trailing,
    cast(coalesce(small_names_forward, 0) as integer) as small_names_forward,
    small_market_cap,
    small_ttm_earnings,
    round(small_trailing_pe, 10) as small_trailing_pe,
    small_forward_earnings,
    round(small_forward_pe, 10) as small_forward_pe,
    cast(coalesce(large_constituents, 0) as integer) as large_constituents,
    cast(coalesce(large_names_priced, 0) as integer) as large_names_priced,
    cast(coalesce(large_names_trailing, 0) as integer) as large_names_trailing,
    cast(coalesce(large_names_forward, 0) as integer) as large_names_forward,
    large_market_cap,
    large_ttm_earnings,
    round(large_trailing_pe, 10) as large_trailing_pe,
    large_forward_earnings,
    round(large_forward_pe, 10) as large_forward_pe,
    round(large_ex_mag7_trailing_pe, 10) as large_ex_mag7_trailing_pe,
    round(discount, 12) as discount,
    round(th.pct, 12) as discount_percentile,
    round(th.med, 12) as discount_median_to_date,
    round(forward_discount, 12) as forward_discount,
    round(fh.pct, 12) as forward_discount_percentile,
    round(fh.med, 12) as forward_discount_median_to_date,
    'IWM' as small_snapshot_ticker,
    small_snapshot_trailing_pe,
    small_snapshot_forward_pe,
    'SPY' as large_snapshot_ticker,
    large_snapshot_trailing_pe,
    large_snapshot_forward_pe,
    round(small_snapshot_trailing_pe / nullif(large_snapshot_trailing_pe, 0.0) - 1.0, 12)
        as snapshot_discount,
    round(small_snapshot_forward_pe / nullif(large_snapshot_forward_pe, 0.0) - 1.0, 12)
        as snapshot_forward_discount
from with_snapshots as d
left join trailing_history as th on th.trade_date = d.trade_date
left join forward_history as fh on fh.trade_date = d.trade_date;
