-- Point-in-time shares outstanding from SEC EDGAR: the cover-page count
-- (dei:EntityCommonStockSharesOutstanding), as first reported, and the first
-- session it may be used (strictly after its filed date, as for earnings).
--
-- Why the cover count: it is stated as of a date shortly before filing, so it is the
-- freshest count public at filed (the balance-sheet count is weeks older). It is in
-- the share terms of its as_of date; a later split is applied downstream. Companies
-- with several share classes report it per class only (dimensional facts that
-- companyfacts omits), so they have no rows here and fall back downstream.

-- A table, not a view: stock_valuation_daily reads it more than once, and as a view it
-- was recomputed each time; at 5,000 filers x 25 years of facts that ran DuckDB out of
-- its 800 MB (benchmarks: EDGAR at scale). Computed once it takes seconds.

{{ config(materialized='table') }}

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

first_reported as (

    select *
    from facts
    qualify row_number() over (partition by cik, as_of order by filed, accn) = 1

),

final as (

    select
        companies.ticker,
        first_reported.cik,
        first_reported.as_of,
        first_reported.shares,
        first_reported.filed,
        first_reported.accn,
        next_session.trade_date as known_from

    from first_reported
    inner join {{ ref('int_edgar_companies') }} as companies
        on companies.cik = first_reported.cik
    {{ first_session_after('first_reported.filed') }}

)

select * from final
