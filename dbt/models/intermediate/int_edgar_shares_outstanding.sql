-- Point-in-time shares outstanding from SEC EDGAR: the cover-page count
-- (dei:EntityCommonStockSharesOutstanding), as first reported, and the first
-- session it may be used (strictly after its filed date, as for earnings).
--
-- Why the cover count: it is stated as of a date shortly before filing, so it is the
-- freshest count public at filed (the balance-sheet count is weeks older). It is in
-- the share terms of its as_of date; a later split is applied downstream. Companies
-- with several share classes report it per class only (dimensional facts that
-- companyfacts omits), so they have no rows here and fall back downstream.

with

facts as (

    select
        cik,
        period_end as as_of,
        value as shares,
        filed,
        accn

    from {{ ref('stg_edgar__facts') }}
    where taxonomy = 'dei'
        and concept = 'EntityCommonStockSharesOutstanding'
        and unit = 'shares'

),

tickers as (

    select
        cik,
        arg_max(ticker, loaded_at) as ticker

    from {{ ref('stg_edgar__facts') }}
    group by cik

),

first_reported as (

    select *
    from facts
    qualify row_number() over (partition by cik, as_of order by filed, accn) = 1

),

trading_days as (

    select trade_date from {{ ref('int_trading_days') }}

),

final as (

    select
        tickers.ticker,
        first_reported.cik,
        first_reported.as_of,
        first_reported.shares,
        first_reported.filed,
        first_reported.accn,
        trading_days.trade_date as known_from

    from first_reported
    inner join tickers on tickers.cik = first_reported.cik
    asof left join trading_days
        on first_reported.filed < trading_days.trade_date

)

select * from final
