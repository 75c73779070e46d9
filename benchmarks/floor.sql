-- The floor: the three core marts in one hand-written DuckDB script, no orchestration.
--
-- Same inputs as the build (the raw Parquet files the harness wrote from the sample
-- source, loaded into tables first, as the build loads raw.*) and the same definitions
-- as the dbt models: int_prices_adjusted -> fct_daily_prices (a dividend on a split day
-- against the post-split previous close; price indices without a dividend term);
-- relative_performance; and for pe_discount what it stands on: EDGAR net income (as
-- first reported, Q4 = year - nine months) and cover-page shares usable from the first
-- session after filing, raw.fundamentals as the fallback (public on the report date,
-- else EDGAR's filing, else the +45/+90-day deadline; next session), the yearly
-- reconstituted baskets (rank by cap on May's last session, effective after June's
-- fourth Friday, top third large while fewer than 3,000 rank, the listed sizes before)
-- and forward earnings only from snapshots. The dbt vars are written in as constants:
-- lookbacks 21/63/126/252 trading rows, a 63-row correlation window, figures used up to
-- 270 days past their period, a basket P/E needs 50% coverage, snapshots at most 7 days
-- old, percentiles after 756 sessions, benchmarks IWM (small) / SPY (large), 1,000
-- large / 2,000 small names. No tests, no checks, no intermediate tables not needed.
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

create or replace table raw_edgar_facts as
select * from read_parquet('{data}/edgar_facts.parquet');

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
with typed as (
    -- a price index (kind 'index', or a '^' symbol outside the universe) takes no
    -- dividend term: its level leaves dividends out
    select
        prices_in.*,
        case
            when universe.kind = 'index'
                or (universe.kind is null and starts_with(prices_in.ticker, '^'))
                then 'price'
            else 'total'
        end as return_type
    from prices_in
    left join (select distinct ticker, kind from universe) as universe
        on universe.ticker = prices_in.ticker
),
factors as (
    -- a dividend on a split day is per new share: divide it by the previous close in
    -- post-split terms
    select
        *,
        case
            when return_type = 'total'
                and dividends > 0
                and lag(close) over by_ticker / split_ratio > dividends
                then 1.0 - dividends * split_ratio / lag(close) over by_ticker
            else 1.0
        end / split_ratio as adjustment_factor
    from typed
    window by_ticker as (partition by ticker order by trade_date)
),
adjusted as (
    select
        ticker, trade_date, return_type, close, dividends, split_ratio,
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
    ) as total_return_index,
    return_type
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

-- the trading calendar, and each ticker's cumulative split factor from each split on
create or replace temp table trading_days as
select distinct trade_date from fct_daily_prices;

create or replace temp table splits as
select
    ticker,
    trade_date,
    product(split_ratio) over (
        partition by ticker order by trade_date
        rows between unbounded preceding and current row
    ) as factor
from fct_daily_prices
where split_ratio <> 1.0;

-- EDGAR: quarterly net income and cover-page share counts, as first reported, usable
-- from the first session strictly after the filing

create or replace temp table edgar_facts as
select
    cast(cik as varchar) as cik,
    cast(ticker as varchar) as ticker,
    cast(taxonomy as varchar) as taxonomy,
    cast(concept as varchar) as concept,
    cast(unit as varchar) as unit,
    cast(accn as varchar) as accn,
    cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    cast(period_end as date) - cast(period_start as date) as days,
    cast(value as double) as value,
    cast(filed as date) as filed
from raw_edgar_facts;

create or replace temp table edgar_quarters as
with companies as (
    -- one load here: each filer's symbol
    select cik, max(ticker) as ticker from edgar_facts group by 1
),
first_versions as (
    select
        *,
        case
            when days between 80 and 100 then 'quarter'
            when days between 260 and 280 then 'nine_months'
            when days between 350 and 380 then 'year'
        end as length
    from edgar_facts
    where taxonomy = 'us-gaap' and concept = 'NetIncomeLoss' and unit = 'USD'
        and period_start is not null
    qualify row_number() over (
        partition by cik, period_start, period_end order by filed, accn
    ) = 1
),
candidates as (
    select cik, period_start, period_end, value, 0 as derived, filed, accn
    from first_versions
    where length = 'quarter'
    union all
    -- Q4 = year - nine months, known once both are
    select
        y.cik,
        cast(n.period_end + interval 1 day as date),
        y.period_end,
        y.value - n.value,
        1,
        greatest(y.filed, n.filed),
        if(y.filed >= n.filed, y.accn, n.accn)
    from first_versions as y
    join first_versions as n
        on n.cik = y.cik and n.period_start = y.period_start and n.length = 'nine_months'
    where y.length = 'year' and y.period_end - n.period_end between 80 and 100
),
chosen as (
    select * from candidates
    qualify row_number() over (
        partition by cik, period_end order by filed, derived, accn
    ) = 1
)
select c.ticker, q.cik, q.period_start, q.period_end, q.value as net_income, q.filed,
    s.trade_date as known_from
from chosen as q
join companies as c on c.cik = q.cik
asof left join trading_days as s on q.filed < s.trade_date;

create or replace temp table edgar_shares as
with companies as (
    select cik, max(ticker) as ticker from edgar_facts group by 1
),
first_versions as (
    select cik, period_end as as_of, value as shares, filed, accn
    from edgar_facts
    where taxonomy = 'dei' and concept = 'EntityCommonStockSharesOutstanding'
        and unit = 'shares'
    qualify row_number() over (partition by cik, period_end order by filed, accn) = 1
)
select c.ticker, f.as_of, f.shares, f.filed, s.trade_date as known_from
from first_versions as f
join companies as c on c.cik = f.cik
asof left join trading_days as s on f.filed < s.trade_date;

create or replace temp table edgar_ttm as
-- per company and session a quarter became known: the latest four quarters known then,
-- summed when they span a year
with known as (select * from edgar_quarters where known_from is not null),
ranked as (
    select
        sessions.ticker,
        sessions.state_date,
        known.period_start,
        known.period_end,
        known.net_income,
        known.known_from,
        row_number() over (
            partition by sessions.cik, sessions.state_date order by known.period_end desc
        ) as recency
    from (select distinct ticker, cik, known_from as state_date from known) as sessions
    join known on known.cik = sessions.cik and known.known_from <= sessions.state_date
)
select
    ticker,
    state_date,
    max(period_end) as last_period_end,
    case
        when count(*) = 4 and max(period_end) - min(period_start) between 350 and 380
            then sum(net_income)
    end as ttm
from ranked
where recency <= 4
group by ticker, state_date;

-- raw.fundamentals (the fallback): each quarter as first reported, public on its report
-- date, else EDGAR's first filing of it, else the filing deadline; usable from the
-- next session

create or replace temp table fallback_quarters as
with fundamentals as (
    select
        cast(ticker as varchar) as ticker,
        cast(period_end as date) as period_end,
        cast(report_date as date) as report_date,
        cast(eps as double) as eps,
        cast(eps_estimate as double) as eps_estimate,
        cast(shares_outstanding as double) as shares_outstanding
    from raw_fundamentals
    qualify row_number() over (
        partition by ticker, period_end order by eps is not null desc
    ) = 1
),
year_end_months as (
    select ticker, arg_max(month(period_end - interval 7 day), period_end) as fy_month
    from edgar_facts
    where taxonomy = 'us-gaap' and concept = 'NetIncomeLoss' and days between 350 and 380
    group by 1
),
dated as (
    select
        f.*,
        cast(coalesce(
            f.report_date,
            (
                select min(q.filed) from edgar_quarters as q
                where q.ticker = f.ticker
                    and q.period_end between f.period_end - interval 7 day
                        and f.period_end + interval 7 day
            ),
            f.period_end + to_days(
                if(month(f.period_end - interval 7 day) = coalesce(y.fy_month, 12), 90, 45)
            )
        ) as date) as public_date
    from fundamentals as f
    left join year_end_months as y on y.ticker = f.ticker
),
available as (
    select
        dated.*,
        coalesce(s.trade_date, cast(dated.public_date + interval 1 day as date))
            as available_date
    from dated
    asof left join trading_days as s on dated.public_date < s.trade_date
),
with_split as (
    select available.*, coalesce(splits.factor, 1.0) as split_factor
    from available
    asof left join splits
        on splits.ticker = available.ticker and available.period_end >= splits.trade_date
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
    from with_split
    window q as (partition by ticker order by period_end)
),
reported as (
    select *, eps * base_shares * split_factor as earnings_usd
    from neighbours
    where eps is not null
)
select
    ticker,
    period_end,
    max(available_date) over four as known_from,
    base_shares,
    case
        when count(earnings_usd) over four = 4
            and period_end - min(period_end) over four <= 300
            then sum(earnings_usd) over four
    end as ttm
from reported
window four as (
    partition by ticker order by period_end rows between 3 preceding and current row
);

-- every basket stock on every day: market cap and TTM earnings known that day, EDGAR
-- first (per company and figure), raw.fundamentals otherwise; figures older than 270
-- days are not used

create or replace temp table valuations as
with stocks as (
    select ticker, is_magnificent_7
    from universe
    where kind = 'stock' and size_bucket in ('large', 'small')
),
fallback_states as (
    select * from fallback_quarters
    qualify row_number() over (partition by ticker, known_from order by period_end desc) = 1
),
shares_known as (
    select
        *,
        max(as_of) over (
            partition by ticker order by known_from, as_of
            rows between unbounded preceding and 1 preceding
        ) as newest_before
    from edgar_shares
    where known_from is not null
),
shares_states as (
    -- a late amendment (older cover date) changes nothing; same session: latest cover
    select k.ticker, k.as_of, k.known_from, k.shares / coalesce(s.factor, 1.0) as base_shares
    from shares_known as k
    asof left join splits as s on s.ticker = k.ticker and k.as_of >= s.trade_date
    where k.newest_before is null or k.as_of > k.newest_before
    qualify row_number() over (partition by k.ticker, k.known_from order by k.as_of desc) = 1
),
event_dates as (
    -- the days something changes for a ticker: a split, or a figure becoming known
    select ticker, trade_date as event_date from splits
    union
    select ticker, known_from from fallback_states
    union
    select ticker, state_date from edgar_ttm
    union
    select ticker, known_from from shares_states
),
events as (
    -- everything in force from each event on: small, so the price rows take part in a
    -- single as-of join
    select
        e.ticker,
        e.event_date,
        coalesce(sp.factor, 1.0) as split_factor,
        f.period_end as fallback_period_end,
        f.base_shares as fallback_base_shares,
        f.ttm as fallback_ttm,
        t.last_period_end as edgar_period_end,
        t.ttm as edgar_ttm,
        sh.as_of as edgar_shares_as_of,
        sh.base_shares as edgar_base_shares
    from event_dates as e
    asof left join splits as sp on sp.ticker = e.ticker and e.event_date >= sp.trade_date
    asof left join fallback_states as f on f.ticker = e.ticker and e.event_date >= f.known_from
    asof left join edgar_ttm as t on t.ticker = e.ticker and e.event_date >= t.state_date
    asof left join shares_states as sh
        on sh.ticker = e.ticker and e.event_date >= sh.known_from
),
days as (
    select p.ticker, p.trade_date, p.close, st.is_magnificent_7
    from fct_daily_prices as p
    join stocks as st on st.ticker = p.ticker
),
with_edgar_shares as (
    select
        d.*,
        if(
            d.trade_date - ev.fallback_period_end <= 270,
            ev.fallback_base_shares * coalesce(ev.split_factor, 1.0),
            null
        ) as fallback_shares,
        if(d.trade_date - ev.fallback_period_end <= 270, ev.fallback_ttm, null) as fallback_ttm,
        if(d.trade_date - ev.edgar_period_end <= 270, ev.edgar_ttm, null) as edgar_ttm,
        if(
            d.trade_date - ev.edgar_shares_as_of <= 270,
            ev.edgar_base_shares * coalesce(ev.split_factor, 1.0),
            null
        ) as edgar_shares
    from days as d
    asof left join events as ev on ev.ticker = d.ticker and d.trade_date >= ev.event_date
)
select
    w.ticker,
    w.trade_date,
    w.is_magnificent_7,
    w.close * if(s.ticker is not null, w.edgar_shares, w.fallback_shares) as market_cap,
    if(e.ticker is not null, w.edgar_ttm, w.fallback_ttm) as ttm
from with_edgar_shares as w
left join (select distinct ticker from edgar_quarters) as e on e.ticker = w.ticker
left join (select distinct ticker from edgar_shares) as s on s.ticker = w.ticker;

-- the baskets: yearly reconstitution by market cap on the last session of May,
-- effective from the first session after the fourth Friday of June (the top third by
-- count large while fewer than 3,000 names rank), the listed sizes before the first

create or replace temp table membership as
with rank_days as (
    select year(trade_date) as yr, max(trade_date) as rank_date
    from trading_days
    where month(trade_date) = 5
    group by 1
),
reconstitutions as (
    select
        r.yr,
        r.rank_date,
        min(t.trade_date) as effective_date
    from rank_days as r
    join trading_days as t
        on t.trade_date > make_date(r.yr, 6, 1)
            + cast((5 - isodow(make_date(r.yr, 6, 1)) + 7) % 7 + 21 as integer)
        and t.trade_date <= make_date(r.yr, 6, 1)
            + cast((5 - isodow(make_date(r.yr, 6, 1)) + 7) % 7 + 28 as integer)
    group by 1, 2
),
ranked as (
    select
        r.yr,
        r.effective_date,
        v.ticker,
        row_number() over (partition by r.yr order by v.market_cap desc, v.ticker) as rank,
        count(*) over (partition by r.yr) as n
    from reconstitutions as r
    join valuations as v on v.trade_date = r.rank_date
    where v.market_cap > 0
),
years as (
    select
        yr,
        effective_date as valid_from,
        lead(effective_date) over (order by yr) as valid_to
    from (select distinct yr, effective_date from ranked)
),
ranked_spells as (
    select
        ranked.ticker,
        case
            when ranked.rank <= if(n >= 3000, 1000, greatest(1, cast(round(n / 3.0) as integer)))
                then 'large'
            else 'small'
        end as size_bucket,
        years.valid_from,
        years.valid_to,
        'reconstitution' as method
    from ranked
    join years on years.yr = ranked.yr
    where ranked.rank <= 3000
),
static_list as (
    select
        u.ticker,
        u.size_bucket,
        (select min(trade_date) from trading_days) as valid_from,
        (select min(valid_from) from ranked_spells) as valid_to,
        'static_list' as method
    from universe as u
    where u.kind = 'stock' and u.size_bucket in ('large', 'small')
)
select * from ranked_spells
union all
select * from static_list
where valid_from is not null and (valid_to is null or valid_to > valid_from);

create or replace table pe_discount as
with member_counts as (
    select
        t.trade_date,
        m.size_bucket,
        count(*) as n_constituents,
        string_agg(distinct m.method, '+' order by m.method) as method
    from trading_days as t
    join membership as m
        on t.trade_date >= m.valid_from and (m.valid_to is null or t.trade_date < m.valid_to)
    group by 1, 2
),
snapshots as (
    select
        cast(ticker as varchar) as ticker,
        cast(snapshot_date as date) as snapshot_date,
        cast(trailing_pe as double) as trailing_pe,
        cast(forward_pe as double) as forward_pe,
        cast(market_cap as double) as market_cap
    from raw_valuation_snapshots
    -- a day's latest version (one load here: any)
    qualify row_number() over (partition by ticker, snapshot_date) = 1
),
estimates as (
    select ticker, snapshot_date, market_cap / nullif(forward_pe, 0.0) as fwd
    from snapshots
    where forward_pe is not null and market_cap is not null
),
members as (
    select v.*, m.size_bucket
    from valuations as v
    asof join membership as m on m.ticker = v.ticker and v.trade_date >= m.valid_from
    where m.valid_to is null or v.trade_date < m.valid_to
),
stocks as (
    select
        members.trade_date,
        members.size_bucket,
        members.is_magnificent_7,
        members.market_cap as cap,
        members.ttm,
        if(members.trade_date - e.snapshot_date <= 7, e.fwd, null) as fwd,
        e.snapshot_date is not null as has_snapshot
    from members
    asof left join estimates as e
        on e.ticker = members.ticker and members.trade_date >= e.snapshot_date
),
basket_days as (
    select
        trade_date,
        size_bucket,
        count(*) as n_priced,
        count(*) filter (where cap is not null and ttm is not null) as n_trailing,
        count(*) filter (where cap is not null and fwd is not null) as n_forward,
        count(*) filter (where has_snapshot) as n_snapshot,
        count(*) filter (where cap is not null and ttm > 0) as n_profitable,
        sum(cap) filter (where cap is not null and ttm is not null) as trailing_cap,
        sum(ttm) filter (where cap is not null and ttm is not null) as ttm,
        sum(cap) filter (where cap is not null and fwd is not null) as forward_cap,
        sum(fwd) filter (where cap is not null and fwd is not null) as fwd,
        sum(cap) filter (where cap is not null and ttm > 0) as profitable_cap,
        sum(ttm) filter (where cap is not null and ttm > 0) as profitable_ttm,
        sum(cap) filter (where cap is not null and ttm is not null and not is_magnificent_7)
            as trailing_cap_ex7,
        sum(ttm) filter (where cap is not null and ttm is not null and not is_magnificent_7)
            as ttm_ex7
    from stocks
    group by 1, 2
),
basket_pe as (
    select
        c.trade_date,
        c.size_bucket,
        c.n_constituents,
        c.method,
        coalesce(b.n_priced, 0) as n_priced,
        coalesce(b.n_trailing, 0) as n_trailing,
        coalesce(b.n_forward, 0) as n_forward,
        coalesce(b.n_profitable, 0) as n_profitable,
        b.trailing_cap,
        b.ttm,
        b.fwd,
        case when b.n_trailing >= 0.5 * b.n_priced and b.ttm > 0 then b.trailing_cap / b.ttm end
            as trailing_pe,
        case
            when b.n_trailing >= 0.5 * b.n_priced and b.profitable_ttm > 0
                then b.profitable_cap / b.profitable_ttm
        end as trailing_pe_ex_losses,
        case when b.n_forward >= 0.5 * b.n_priced and b.fwd > 0 then b.forward_cap / b.fwd end
            as forward_pe,
        case
            when coalesce(b.n_priced, 0) = 0 then 'no_members_priced'
            when b.n_snapshot = 0 then 'no_snapshot'
            when b.n_forward = 0 then 'snapshot_stale'
            when b.n_forward < 0.5 * b.n_priced then 'thin_coverage'
            when not b.fwd > 0 then 'earnings_not_positive'
        end as forward_null_reason,
        case
            when b.n_trailing >= 0.5 * b.n_priced and b.ttm_ex7 > 0
                then b.trailing_cap_ex7 / b.ttm_ex7
        end as trailing_pe_ex7
    from member_counts as c
    left join basket_days as b on b.trade_date = c.trade_date and b.size_bucket = c.size_bucket
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
        s.n_profitable as small_names_profitable,
        s.trailing_pe_ex_losses as small_trailing_pe_ex_losses,
        s.fwd as small_forward_earnings,
        s.forward_pe as small_forward_pe,
        s.forward_null_reason as small_forward_null_reason,
        s.method as small_method,
        l.n_constituents as large_constituents,
        l.n_priced as large_names_priced,
        l.n_trailing as large_names_trailing,
        l.n_forward as large_names_forward,
        l.trailing_cap as large_market_cap,
        l.ttm as large_ttm_earnings,
        l.trailing_pe as large_trailing_pe,
        l.n_profitable as large_names_profitable,
        l.trailing_pe_ex_losses as large_trailing_pe_ex_losses,
        l.fwd as large_forward_earnings,
        l.forward_pe as large_forward_pe,
        l.forward_null_reason as large_forward_null_reason,
        l.method as large_method,
        l.trailing_pe_ex7 as large_ex_mag7_trailing_pe,
        s.trailing_pe / l.trailing_pe - 1.0 as discount,
        s.trailing_pe_ex_losses / l.trailing_pe_ex_losses - 1.0 as discount_ex_losses,
        s.forward_pe / l.forward_pe - 1.0 as forward_discount
    from trading_days as t
    left join basket_pe as s on s.trade_date = t.trade_date and s.size_bucket = 'small'
    left join basket_pe as l on l.trade_date = t.trade_date and l.size_bucket = 'large'
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
    -- percentile and median only once 756 sessions have a discount
    select
        trade_date,
        if(count(*) over w >= 756, cume_dist(order by discount) over w, null) as pct,
        if(count(*) over w >= 756, median(discount) over w, null) as med
    from daily
    where discount is not null
    window w as (order by trade_date rows between unbounded preceding and current row)
),
forward_history as (
    select
        trade_date,
        if(count(*) over w >= 756, cume_dist(order by forward_discount) over w, null) as pct,
        if(count(*) over w >= 756, median(forward_discount) over w, null) as med
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
    round(small_market_cap, 2) as small_market_cap,
    round(small_ttm_earnings, 2) as small_ttm_earnings,
    round(small_trailing_pe, 10) as small_trailing_pe,
    cast(coalesce(small_names_profitable, 0) as integer) as small_names_profitable,
    round(small_trailing_pe_ex_losses, 10) as small_trailing_pe_ex_losses,
    round(small_forward_earnings, 2) as small_forward_earnings,
    round(small_forward_pe, 10) as small_forward_pe,
    if(small_forward_pe is null, coalesce(small_forward_null_reason, 'no_members'), null)
        as small_forward_pe_null_reason,
    coalesce(small_method, 'none') as small_membership_method,
    cast(coalesce(large_constituents, 0) as integer) as large_constituents,
    cast(coalesce(large_names_priced, 0) as integer) as large_names_priced,
    cast(coalesce(large_names_trailing, 0) as integer) as large_names_trailing,
    cast(coalesce(large_names_forward, 0) as integer) as large_names_forward,
    round(large_market_cap, 2) as large_market_cap,
    round(large_ttm_earnings, 2) as large_ttm_earnings,
    round(large_trailing_pe, 10) as large_trailing_pe,
    cast(coalesce(large_names_profitable, 0) as integer) as large_names_profitable,
    round(large_trailing_pe_ex_losses, 10) as large_trailing_pe_ex_losses,
    round(large_forward_earnings, 2) as large_forward_earnings,
    round(large_forward_pe, 10) as large_forward_pe,
    if(large_forward_pe is null, coalesce(large_forward_null_reason, 'no_members'), null)
        as large_forward_pe_null_reason,
    coalesce(large_method, 'none') as large_membership_method,
    round(large_ex_mag7_trailing_pe, 10) as large_ex_mag7_trailing_pe,
    round(discount, 12) as discount,
    cast(count(discount) over (order by d.trade_date) as integer) as discount_history_sessions,
    round(th.pct, 12) as discount_percentile,
    round(th.med, 12) as discount_median_to_date,
    round(discount_ex_losses, 12) as discount_ex_losses,
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
