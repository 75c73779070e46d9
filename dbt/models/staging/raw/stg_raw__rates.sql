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
    -- values a quality gate quarantined (out of their series' range) stay in raw only
    where not exists (
        select 1
        from {{ source('raw', 'quarantine') }} as quarantine
        where quarantine.table_name = 'raw.rates'
            and quarantine.action = 'quarantine'
            and quarantine.status = 'open'
            and quarantine.key = source.series_id
            and quarantine.obs_date = source.obs_date
    )

)

select * from renamed
