-- The small-cap vs large-cap valuation gap, bottom-up from the baskets'
-- constituents, one row per trading day.
--
--   basket trailing P/E = sum of market caps / sum of TTM earnings
--   basket forward P/E  = sum of market caps / sum of forward earnings
--
-- Baskets are the members valid that day (marts.universe_membership: yearly
-- reconstitution by market cap, or the labelled static list before the first one),
-- never today's list. Caps and trailing earnings come from marts.stock_valuation_daily
-- (EDGAR first, point in time: a day only uses filings public by then). Two
-- conventions of the index method side by side: trailing_pe counts losses (S&P's: a
-- loss-maker adds its market cap and subtracts its loss), trailing_pe_ex_losses
-- leaves the names with TTM earnings <= 0 out of both sums (FTSE Russell's published
-- convention). A basket P/E is NULL when its earnings sum is not positive or fewer
-- than var('pe_min_coverage') of its priced members have the figure.
--
-- Forward earnings exist only where an estimate existed on the day: a stock's latest
-- valuation snapshot on or before the day, at most var('snapshot_max_age_days') old,
-- gives forward earnings = snapshot market cap / snapshot forward P/E (the consensus
-- then, in dollars); otherwise the forward P/E is NULL with its reason.
--
-- discount = small / large - 1; its percentile and median are expanding (days up to
-- the day only) and NULL until var('pe_percentile_min_history_sessions') sessions have
-- a discount. The size benchmarks' ETF-level P/E comes from their own snapshots.

{%- set benchmarks = var('size_benchmarks') %}
{%- set min_coverage = var('pe_min_coverage') %}
{%- set max_snapshot_age = var('snapshot_max_age_days') %}
{%- set min_history = var('pe_percentile_min_history_sessions') %}

with

trading_days as (

    select trade_date from {{ ref('int_trading_days') }}

),

membership as (

    select
        ticker,
        size_bucket,
        valid_from,
        valid_to,
        method

    from {{ ref('universe_membership') }}

),

member_counts as (

    -- members per bucket and day, from the spells (small: one row per spell group)
    select
        trading_days.trade_date,
        spells.size_bucket,
        sum(spells.n_members) as n_constituents,
        string_agg(distinct spells.method, '+' order by spells.method) as membership_method

    from trading_days
    inner join (
        select size_bucket, valid_from, valid_to, method, count(*) as n_members
        from membership
        group by all
    ) as spells
        on trading_days.trade_date >= spells.valid_from
        and (spells.valid_to is null or trading_days.trade_date < spells.valid_to)
    group by all

),

stock_snapshots as (

    select
        ticker,
        snapshot_date,
        market_cap / nullif(forward_pe, 0.0) as snapshot_forward_earnings_usd

    from {{ ref('stg_raw__valuation_snapshots') }}
    where forward_pe is not null and market_cap is not null

),

valuations as (

    select
        ticker,
        trade_date,
        is_magnificent_7,
        market_cap,
        ttm_earnings_usd

    from {{ ref('stock_valuation_daily') }}

),

members_priced as (

    -- a ticker's spells never overlap: the latest spell started by the day, if not ended
    select
        valuations.*,
        membership.size_bucket

    from valuations
    asof inner join membership
        on membership.ticker = valuations.ticker
        and valuations.trade_date >= membership.valid_from
    where membership.valid_to is null or valuations.trade_date < membership.valid_to

),

with_estimates as (

    select
        members_priced.*,
        stock_snapshots.snapshot_date,
        if(
            members_priced.trade_date - stock_snapshots.snapshot_date <= {{ max_snapshot_age }},
            stock_snapshots.snapshot_forward_earnings_usd,
            null
        ) as forward_earnings_usd

    from members_priced
    asof left join stock_snapshots
        on stock_snapshots.ticker = members_priced.ticker
        and members_priced.trade_date >= stock_snapshots.snapshot_date

),

stocks as (

    select
        trade_date,
        size_bucket,
        is_magnificent_7,
        market_cap,
        ttm_earnings_usd,
        forward_earnings_usd,
        snapshot_date is not null as has_snapshot,
        market_cap is not null and ttm_earnings_usd is not null as has_trailing,
        market_cap is not null and forward_earnings_usd is not null as has_forward

    from with_estimates

),

basket_days as (

    select
        trade_date,
        size_bucket,
        count(*) as n_priced,
        count(*) filter (where has_trailing) as n_trailing,
        count(*) filter (where has_forward) as n_forward,
        count(*) filter (where has_snapshot) as n_with_snapshot,
        sum(market_cap) filter (where has_trailing) as trailing_market_cap,
        sum(ttm_earnings_usd) filter (where has_trailing) as ttm_earnings,
        sum(market_cap) filter (where has_forward) as forward_market_cap,
        sum(forward_earnings_usd) filter (where has_forward) as forward_earnings,
        count(*) filter (where has_trailing and ttm_earnings_usd > 0) as n_profitable,
        sum(market_cap) filter (where has_trailing and ttm_earnings_usd > 0)
            as profitable_market_cap,
        sum(ttm_earnings_usd) filter (where has_trailing and ttm_earnings_usd > 0)
            as profitable_ttm_earnings,
        sum(market_cap) filter (where has_trailing and not is_magnificent_7)
            as trailing_market_cap_ex_mag7,
        sum(ttm_earnings_usd) filter (where has_trailing and not is_magnificent_7)
            as ttm_earnings_ex_mag7

    from stocks
    group by trade_date, size_bucket

),

basket_pe as (

    select
        member_counts.trade_date,
        member_counts.size_bucket,
        member_counts.n_constituents,
        member_counts.membership_method,
        coalesce(basket_days.n_priced, 0) as n_priced,
        coalesce(basket_days.n_trailing, 0) as n_trailing,
        coalesce(basket_days.n_forward, 0) as n_forward,
        coalesce(basket_days.n_profitable, 0) as n_profitable,
        basket_days.trailing_market_cap,
        basket_days.ttm_earnings,
        basket_days.forward_earnings,
        case
            when n_trailing >= {{ min_coverage }} * n_priced and ttm_earnings > 0
                then trailing_market_cap / ttm_earnings
        end as trailing_pe,
        -- coverage is judged on the names with figures, not the profitable ones: a
        -- basket where many names lose money is well covered, just loss-heavy
        case
            when n_trailing >= {{ min_coverage }} * n_priced and profitable_ttm_earnings > 0
                then profitable_market_cap / profitable_ttm_earnings
        end as trailing_pe_ex_losses,
        case
            when n_forward >= {{ min_coverage }} * n_priced and forward_earnings > 0
                then forward_market_cap / forward_earnings
        end as forward_pe,
        case
            when coalesce(basket_days.n_priced, 0) = 0 then 'no_members_priced'
            when basket_days.n_with_snapshot = 0 then 'no_snapshot'
            when basket_days.n_forward = 0 then 'snapshot_stale'
            when basket_days.n_forward < {{ min_coverage }} * basket_days.n_priced
                then 'thin_coverage'
            when not basket_days.forward_earnings > 0 then 'earnings_not_positive'
        end as forward_pe_null_reason,
        case
            when n_trailing >= {{ min_coverage }} * n_priced and ttm_earnings_ex_mag7 > 0
                then trailing_market_cap_ex_mag7 / ttm_earnings_ex_mag7
        end as trailing_pe_ex_mag7

    from member_counts
    left join basket_days
        on basket_days.trade_date = member_counts.trade_date
        and basket_days.size_bucket = member_counts.size_bucket

),

snapshots as (

    select
        ticker,
        snapshot_date,
        trailing_pe,
        forward_pe

    from {{ ref('stg_raw__valuation_snapshots') }}
    where ticker in ('{{ benchmarks["small"] }}', '{{ benchmarks["large"] }}')

),

small_snapshots as (

    select * from snapshots where ticker = '{{ benchmarks["small"] }}'

),

large_snapshots as (

    select * from snapshots where ticker = '{{ benchmarks["large"] }}'

),

daily as (

    select
        trading_days.trade_date,
        small.n_constituents as small_constituents,
        small.n_priced as small_names_priced,
        small.n_trailing as small_names_trailing,
        small.n_forward as small_names_forward,
        small.trailing_market_cap as small_market_cap,
        small.ttm_earnings as small_ttm_earnings,
        small.trailing_pe as small_trailing_pe,
        small.n_profitable as small_names_profitable,
        small.trailing_pe_ex_losses as small_trailing_pe_ex_losses,
        small.forward_earnings as small_forward_earnings,
        small.forward_pe as small_forward_pe,
        small.forward_pe_null_reason as small_forward_pe_null_reason,
        small.membership_method as small_membership_method,
        large.n_constituents as large_constituents,
        large.n_priced as large_names_priced,
        large.n_trailing as large_names_trailing,
        large.n_forward as large_names_forward,
        large.trailing_market_cap as large_market_cap,
        large.ttm_earnings as large_ttm_earnings,
        large.trailing_pe as large_trailing_pe,
        large.n_profitable as large_names_profitable,
        large.trailing_pe_ex_losses as large_trailing_pe_ex_losses,
        large.forward_earnings as large_forward_earnings,
        large.forward_pe as large_forward_pe,
        large.forward_pe_null_reason as large_forward_pe_null_reason,
        large.membership_method as large_membership_method,
        large.trailing_pe_ex_mag7 as large_ex_mag7_trailing_pe,
        small.trailing_pe / large.trailing_pe - 1.0 as discount,
        small.trailing_pe_ex_losses / large.trailing_pe_ex_losses - 1.0 as discount_ex_losses,
        small.forward_pe / large.forward_pe - 1.0 as forward_discount

    from trading_days
    left join basket_pe as small
        on small.trade_date = trading_days.trade_date
        and small.size_bucket = 'small'
    left join basket_pe as large
        on large.trade_date = trading_days.trade_date
        and large.size_bucket = 'large'

),

with_small_snapshot as (

    select
        daily.*,
        small_snapshots.snapshot_date as small_snapshot_date,
        small_snapshots.trailing_pe as small_snapshot_trailing_pe,
        small_snapshots.forward_pe as small_snapshot_forward_pe

    from daily
    asof left join small_snapshots
        on daily.trade_date >= small_snapshots.snapshot_date

),

with_snapshots as (

    select
        with_small_snapshot.*,
        large_snapshots.snapshot_date as large_snapshot_date,
        large_snapshots.trailing_pe as large_snapshot_trailing_pe,
        large_snapshots.forward_pe as large_snapshot_forward_pe

    from with_small_snapshot
    asof left join large_snapshots
        on with_small_snapshot.trade_date >= large_snapshots.snapshot_date

),

fresh_snapshots as (

    select
        * replace (
            if(
                trade_date - small_snapshot_date <= {{ max_snapshot_age }},
                small_snapshot_trailing_pe,
                null
            ) as small_snapshot_trailing_pe,
            if(
                trade_date - small_snapshot_date <= {{ max_snapshot_age }},
                small_snapshot_forward_pe,
                null
            ) as small_snapshot_forward_pe,
            if(
                trade_date - large_snapshot_date <= {{ max_snapshot_age }},
                large_snapshot_trailing_pe,
                null
            ) as large_snapshot_trailing_pe,
            if(
                trade_date - large_snapshot_date <= {{ max_snapshot_age }},
                large_snapshot_forward_pe,
                null
            ) as large_snapshot_forward_pe
        )

    from with_snapshots

),

trailing_history as (

    -- expanding statistics over the days that have a discount, up to each day
    select
        trade_date,
        count(*) over history_so_far as discount_history_sessions,
        cume_dist(order by discount) over history_so_far as discount_percentile,
        median(discount) over history_so_far as discount_median_to_date

    from daily
    where discount is not null
    window history_so_far as (
        order by trade_date
        rows between unbounded preceding and current row
    )

),

forward_history as (

    select
        trade_date,
        count(*) over history_so_far as forward_discount_history_sessions,
        cume_dist(order by forward_discount) over history_so_far as forward_discount_percentile,
        median(forward_discount) over history_so_far as forward_discount_median_to_date

    from daily
    where forward_discount is not null
    window history_so_far as (
        order by trade_date
        rows between unbounded preceding and current row
    )

),

final as (

    select
        fresh_snapshots.trade_date,

        -- small-cap basket
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
        if(small_forward_pe is null, coalesce(small_forward_pe_null_reason, 'no_members'), null)
            as small_forward_pe_null_reason,
        coalesce(small_membership_method, 'none') as small_membership_method,

        -- large-cap basket (Magnificent 7 included)
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
        if(large_forward_pe is null, coalesce(large_forward_pe_null_reason, 'no_members'), null)
            as large_forward_pe_null_reason,
        coalesce(large_membership_method, 'none') as large_membership_method,
        round(large_ex_mag7_trailing_pe, 10) as large_ex_mag7_trailing_pe,

        -- the gap
        round(discount, 12) as discount,
        cast(count(discount) over (order by fresh_snapshots.trade_date) as integer)
            as discount_history_sessions,
        if(
            trailing_history.discount_history_sessions >= {{ min_history }},
            round(trailing_history.discount_percentile, 12),
            null
        ) as discount_percentile,
        if(
            trailing_history.discount_history_sessions >= {{ min_history }},
            round(trailing_history.discount_median_to_date, 12),
            null
        ) as discount_median_to_date,
        round(discount_ex_losses, 12) as discount_ex_losses,
        round(forward_discount, 12) as forward_discount,
        if(
            forward_history.forward_discount_history_sessions >= {{ min_history }},
            round(forward_history.forward_discount_percentile, 12),
            null
        ) as forward_discount_percentile,
        if(
            forward_history.forward_discount_history_sessions >= {{ min_history }},
            round(forward_history.forward_discount_median_to_date, 12),
            null
        ) as forward_discount_median_to_date,

        -- ETF-level snapshots (the source's own figures), where the source has them
        '{{ benchmarks["small"] }}' as small_snapshot_ticker,
        small_snapshot_trailing_pe,
        small_snapshot_forward_pe,
        '{{ benchmarks["large"] }}' as large_snapshot_ticker,
        large_snapshot_trailing_pe,
        large_snapshot_forward_pe,
        round(small_snapshot_trailing_pe / nullif(large_snapshot_trailing_pe, 0.0) - 1.0, 12)
            as snapshot_discount,
        round(small_snapshot_forward_pe / nullif(large_snapshot_forward_pe, 0.0) - 1.0, 12)
            as snapshot_forward_discount

    from fresh_snapshots
    left join trailing_history on trailing_history.trade_date = fresh_snapshots.trade_date
    left join forward_history on forward_history.trade_date = fresh_snapshots.trade_date

)

select * from final
