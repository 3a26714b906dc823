with

source as (

    select * from {{ source('raw', 'events') }}

),

flattened as (

    select
        message_id as event_id,
        type as event_type,
        event as event_name,
        name as screen_or_page_name,
        anonymous_id,
        user_id,
        timestamp as event_at,
        sent_at,
        received_at,
        coalesce(channel, {{ json_text('context', '$.channel') }}) as channel,
        -- context.ip and context.userAgent stay in raw: direct PII nothing downstream needs.
        {{ json_text('context', '$.device.id') }} as device_id,
        {{ json_text('context', '$.device.type') }} as device_type,
        {{ json_text('context', '$.page.path') }} as page_path,
        {{ json_text('context', '$.page.referrer') }} as page_referrer,
        {{ json_text('context', '$.campaign.name') }} as campaign_name,
        {{ json_text('context', '$.campaign.source') }} as campaign_source,
        {{ json_text('context', '$.campaign.medium') }} as campaign_medium,
        -- The consent manager's state on the browser when the event was sent (context.consent).
        {%- for purpose in ['analytics', 'personalization', 'advertising'] %}
        case {{ json_text('context', '$.consent.categoryPreferences.' ~ purpose) }}
            when 'true' then true
            when 'false' then false
        end as consent_{{ purpose }},
        {%- endfor %}
        {{ json_text('properties', '$.product_id') }} as product_id,
        {{ json_text('properties', '$.category') }} as product_category,
        {{ dbt.safe_cast(json_text('properties', '$.price'), dbt.type_numeric()) }} as price,
        coalesce(
            {{ dbt.safe_cast('revenue', dbt.type_numeric()) }},
            {{ dbt.safe_cast(json_text('properties', '$.revenue'), dbt.type_numeric()) }}
        ) as revenue,
        coalesce(order_id, {{ json_text('properties', '$.order_id') }}) as order_id,
        {{ json_text('traits', '$.email') }} as trait_email,
        {{ json_text('traits', '$.phone') }} as trait_phone,
        {{ json_text('traits', '$.firstName') }} as trait_first_name,
        {{ json_text('traits', '$.lastName') }} as trait_last_name,
        -- The product list of Order Completed and the rest of the properties, for later models.
        cast(properties as {{ dbt.type_string() }}) as properties_json,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from flattened

)

select * from final
