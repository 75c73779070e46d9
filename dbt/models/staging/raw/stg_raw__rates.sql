with

source as (

    select * from {{ source('raw', 'rates') }}

),

renamed as (

    select
        -- ids
        upper(trim(cast(series_id as varchar))) as series_id,
        cast(obs_date as date) as obs_date,

        -- measures
        cast(value as double) as observed_value,

        -- lineage
        cast(source as varchar) as source_label,
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from renamed
