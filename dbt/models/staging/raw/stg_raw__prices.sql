with

source as (

    select * from {{ source('raw', 'prices') }}

),

quarantine as (

    -- ticker-days a quality gate quarantined: kept in raw, kept out of every model
    select
        key as ticker,
        obs_date as trade_date,
        bool_or(status = 'open') as is_held_out,
        max(as_of_load) filter (where status = 'resolved') as released_as_of

    from {{ source('raw', 'quarantine') }}
    where table_name = 'raw.prices' and action = 'quarantine'
    group by 1, 2

),

renamed as (

    select
        -- ids
        cast(source.ticker as varchar) as ticker,
        cast(source.trade_date as date) as trade_date,

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

        -- lineage; a row released from quarantine counts as arriving when it was
        -- released, so the incremental models pick it up
        cast(source.source as varchar) as source_label,
        cast(
            greatest(source.loaded_at, coalesce(quarantine.released_as_of, source.loaded_at))
            as timestamp
        ) as loaded_at

    from source
    left join quarantine
        on quarantine.ticker = source.ticker
        and quarantine.trade_date = source.trade_date
    where not coalesce(quarantine.is_held_out, false)

)

select * from renamed
