-- Every company (cik) with SEC EDGAR facts, and the one symbol its figures load under:
-- the ticker of its latest load, should the symbol change (a rename keeps its CIK).
-- The EDGAR models join it to name each company's rows.

with

facts as (

    select
        cik,
        ticker,
        filed,
        loaded_at

    from {{ ref('stg_edgar__facts') }}

),

final as (

    select
        cik,
        arg_max(ticker, loaded_at) as ticker,
        min(filed) as first_filed,
        max(filed) as last_filed

    from facts
    group by cik

)

select * from final
