with

source as (

    select * from {{ source('raw', 'email_events') }}

),

renamed as (

    select
        event_id as email_event_id,
        event as email_event_type,
        email,
        crm_id,
        campaign_id,
        timestamp as occurred_at,
        url as clicked_url,
        bounce_type,
        user_agent,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
