with

source as (

    select * from {{ source('raw', 'offer_events') }}

),

renamed as (

    select
        offer_event_id,
        offer_id,
        user_id,
        crm_id,
        anonymous_id,
        outcome,
        channel as offer_channel,
        occurred_at,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
