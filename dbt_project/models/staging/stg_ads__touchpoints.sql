with

source as (

    select * from {{ source('raw', 'ad_touchpoints') }}

),

renamed as (

    select
        touchpoint_id,
        occurred_at,
        interaction,
        channel as ad_channel,
        campaign_id,
        campaign_name,
        anonymous_id,
        device_id,
        click_id,
        cost,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
