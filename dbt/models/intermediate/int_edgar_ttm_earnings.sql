-- Trailing-twelve-month net income from SEC EDGAR, point in time: one row per company
-- per session on which a new quarter of it became known (int_edgar_net_income_quarterly),
-- holding the sum of the latest four quarters known from that session on.
--
-- The latest four are those with the greatest period ends among the quarters known
-- by the session (known_from on or before it), each at its first-reported value. The
-- sum counts only when there are four and they span a year (first start to last end
-- 350-380 days: 52- and 53-week years): a missing quarter would otherwise silently
-- make a nine- or fifteen-month "TTM". Losses count (negative).

-- A table, not a view: stock_valuation_daily reads it more than once, and as a view it
-- was recomputed each time; at 5,000 filers x 25 years of facts that ran DuckDB out of
-- its 800 MB (benchmarks: EDGAR at scale). Computed once it takes seconds.

{{ config(materialized='table') }}

with

quarters as (

    select *
    from {{ ref('int_edgar_net_income_quarterly') }}
    where known_from is not null

),

sessions as (

    -- each session on which a quarter became known, with the latest period end known
    -- by then
    select
        ticker,
        cik,
        state_date,
        max(latest_known_end) as latest_known_end

    from (
        select
            ticker,
            cik,
            known_from as state_date,
            max(period_end) over (
                partition by cik order by known_from
                range between unbounded preceding and current row
            ) as latest_known_end

        from quarters
    )
    group by ticker, cik, state_date

),

known_then as (

    -- Only the quarters ending within 400 days of the latest known period end: four
    -- quarters that span a year all do, and the sum of four that do not is NULL anyway.
    -- Joining every earlier quarter to every session instead grows with the square of a
    -- company's history; at 3,000 companies x 25 years it ran DuckDB out of its 800 MB.
    select
        sessions.ticker,
        sessions.cik,
        sessions.state_date,
        quarters.period_start,
        quarters.period_end,
        quarters.net_income_usd,
        quarters.known_from,
        row_number() over (
            partition by sessions.cik, sessions.state_date
            order by quarters.period_end desc
        ) as recency

    from sessions
    inner join quarters
        on quarters.cik = sessions.cik
        and quarters.known_from <= sessions.state_date
        and quarters.period_end > sessions.latest_known_end - interval 400 day

),

latest_four as (

    select
        ticker,
        cik,
        state_date,
        count(*) as quarters_summed,
        sum(net_income_usd) as net_income_sum,
        min(period_start) as first_period_start,
        max(period_end) as last_period_end,
        max(known_from) as earnings_known_since

    from known_then
    where recency <= 4
    group by ticker, cik, state_date

),

final as (

    select
        ticker,
        cik,
        state_date,
        first_period_start,
        last_period_end,
        earnings_known_since,
        cast(quarters_summed as integer) as quarters_summed,
        case
            when quarters_summed = 4
                and last_period_end - first_period_start between 350 and 380
                then net_income_sum
        end as ttm_earnings_usd

    from latest_four

)

select * from final
