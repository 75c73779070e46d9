with

source as (

    select * from {{ source('raw', 'valuation_snapshots') }}

),

renamed as (

    select
        -- ids
        cast(ticker as varchar) as ticker,
        cast(snapshot_date as date) as snapshot_date,

        -- measures
        cast(trailing_pe as double) as trailing_pe,
        cast(forward_pe as double) as forward_pe,
        cast(market_cap as double) as market_cap,

        -- lineage
        cast(source as varchar) as source_label,
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from renamed
