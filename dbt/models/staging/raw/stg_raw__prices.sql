with

source as (

    select * from {{ source('raw', 'prices') }}

),

renamed as (

    select
        -- ids
        cast(ticker as varchar) as ticker,
        cast(trade_date as date) as trade_date,

        -- prices, as traded
        cast(open as double) as open,
        cast(high as double) as high,
        cast(low as double) as low,
        cast(close as double) as close,
        cast(adj_close as double) as source_adj_close,
        cast(volume as double) as volume,

        -- corporate actions: no dividend is 0, no split is a ratio of 1
        coalesce(cast(dividends as double), 0.0) as dividends,
        case
            when splits is null or splits <= 0 then 1.0
            else cast(splits as double)
        end as split_ratio,

        -- lineage
        cast(source as varchar) as source_label,
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from renamed
