with

source as (

    select * from {{ source('raw', 'support_tickets') }}

),

renamed as (

    select
        ticket_event_id,
        ticket_id,
        event_type as ticket_event_type,
        event_at as occurred_at,
        crm_id,
        email,
        phone,
        order_id,
        category as ticket_category,
        channel as contact_channel,
        priority,
        agent_id,
        csat,
        comment,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
