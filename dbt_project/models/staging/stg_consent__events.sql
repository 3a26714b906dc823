with

source as (

    select * from {{ source('raw', 'consent_events') }}

),

renamed as (

    select
        consent_event_id,
        user_id,
        anonymous_id,
        email,
        crm_id,
        loyalty_card_id,
        purpose,
        status as consent_status,
        source as consent_source,
        occurred_at,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
