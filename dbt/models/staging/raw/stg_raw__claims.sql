with

source as (

    select * from {{ source('raw', 'claims') }}

),

renamed as (

    select
        -- ids
        cast(claim_id as varchar) as claim_id,
        cast(position as integer) as claim_position,

        -- what is claimed
        cast(text as varchar) as claim_text,
        cast(metric as varchar) as metric,
        cast(ticker as varchar) as ticker,
        cast(versus as varchar) as versus_ticker,
        cast(series_id as varchar) as series_id,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(on_date as date) as on_date,
        cast(claimed as double) as claimed_value,
        coalesce(cast(comparison as varchar), '=') as comparison,
        cast(tolerance as double) as tolerance,

        -- validation and lineage
        cast(error as varchar) as validation_error,
        cast(claims_file as varchar) as claims_file

    from source

)

select * from renamed
