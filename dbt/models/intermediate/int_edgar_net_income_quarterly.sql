-- Point-in-time quarterly net income in dollars from SEC EDGAR, as first reported,
-- and the first session it may be used.
--
-- First reported: of every version of a period's figure, the one filed first (ties:
-- lowest accession number). A later restatement is news about the past, not what
-- the market saw, so a backtest never uses it for the days before it was filed.
--
-- Quarters: a ~3-month duration fact (80-100 days) is a quarter. Q4, which a 10-K
-- reports only inside the fiscal year, is derived: the fiscal year (350-380 days)
-- minus the nine months to date (260-280 days) starting on the same day and ending
-- 80-100 days before it, both as first reported; it is known once both are (the
-- later filed date). Lengths come from start/end, never from fp (a 10-Q for Q3 tags
-- its three- and nine-month figures alike), so any fiscal year end works. When a
-- quarter has both a reported and a derived figure, the one known first counts
-- (the reported one on a tie).
--
-- known_from: the first trading session strictly after filed. EDGAR stamps the day,
-- not the time, and many filings land after the close: the filing day itself would
-- be look-ahead.

-- A table, not a view: stock_valuation_daily reads it more than once, and as a view it
-- was recomputed each time; at 5,000 filers x 25 years of facts that ran DuckDB out of
-- its 800 MB (benchmarks: EDGAR at scale). Computed once it takes seconds.

{{ config(materialized='table') }}

with

facts as (

    select
        cik,
        period_start,
        period_end,
        duration_days,
        value,
        filed,
        accn

    from {{ ref('stg_edgar__facts') }}
    where taxonomy = 'us-gaap'
        and concept = 'NetIncomeLoss'
        and unit = 'USD'
        and period_start is not null

),

first_reported as (

    select
        *,
        case
            when duration_days between 80 and 100 then 'quarter'
            when duration_days between 260 and 280 then 'nine_months'
            when duration_days between 350 and 380 then 'year'
        end as duration_kind

    from facts
    qualify row_number() over (
        partition by cik, period_start, period_end
        order by filed, accn
    ) = 1

),

reported_quarters as (

    select
        cik,
        period_start,
        period_end,
        value as net_income_usd,
        'quarter' as basis,
        filed,
        accn

    from first_reported
    where duration_kind = 'quarter'

),

derived_fourth_quarters as (

    select
        years.cik,
        cast(nines.period_end + interval 1 day as date) as period_start,
        years.period_end,
        years.value - nines.value as net_income_usd,
        'year_minus_nine_months' as basis,
        greatest(years.filed, nines.filed) as filed,
        if(years.filed >= nines.filed, years.accn, nines.accn) as accn

    from first_reported as years
    inner join first_reported as nines
        on nines.cik = years.cik
        and nines.period_start = years.period_start
        and nines.duration_kind = 'nine_months'
    where years.duration_kind = 'year'
        and years.period_end - nines.period_end between 80 and 100

),

quarters as (

    select * from reported_quarters
    union all
    select * from derived_fourth_quarters

),

first_known as (

    select *
    from quarters
    qualify row_number() over (
        partition by cik, period_end
        order by filed, if(basis = 'quarter', 0, 1), accn
    ) = 1

),

final as (

    select
        companies.ticker,
        first_known.cik,
        first_known.period_start,
        first_known.period_end,
        first_known.net_income_usd,
        first_known.basis,
        first_known.filed,
        first_known.accn,
        -- NULL while no session after the filing is in the data yet
        next_session.trade_date as known_from

    from first_known
    inner join {{ ref('int_edgar_companies') }} as companies
        on companies.cik = first_known.cik
    {{ first_session_after('first_known.filed') }}

)

select * from final
