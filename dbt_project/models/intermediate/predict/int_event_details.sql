{#- What person_events leaves out and the prediction features need, one row per source record: the
    product category of a product event, order line or store line; the offer of an offer event or
    order line; the score of a survey response (NPS) or a ticket event (CSAT); whether a delivered
    parcel came after its promised date, and whether a shipment had no tracking number. Keyed like
    person_events (source, record_id), so features join it without reading staging themselves. -#}

with

products as (

    -- A product's category never changes across catalog versions; the latest version speaks.
    select product_id, category
    from (
        select
            product_id,
            category,
            row_number() over (partition by product_id order by updated_at desc) as version_rank
        from {{ ref('stg_catalog__products') }}
    ) as versions
    where version_rank = 1

),

web_and_app as (

    select
        'events' as source,
        cast(event_id as {{ dbt.type_string() }}) as record_id,
        product_category as category,
        cast(null as {{ dbt.type_string() }}) as offer_id,
        cast(null as double) as score,
        cast(null as boolean) as is_late,
        cast(null as boolean) as is_untracked
    from {{ ref('stg_segment__events') }}
    where product_category is not null

),

order_lines as (

    select
        'orders' as source,
        cast(order_lines.order_line_id as {{ dbt.type_string() }}) as record_id,
        products.category,
        order_lines.offer_id,
        cast(null as double) as score,
        cast(null as boolean) as is_late,
        cast(null as boolean) as is_untracked
    from {{ ref('stg_shop__orders') }} as order_lines
    left join products on products.product_id = order_lines.product_id

),

store_lines as (

    select
        'pos_transactions' as source,
        cast(store_lines.transaction_line_id as {{ dbt.type_string() }}) as record_id,
        products.category,
        cast(null as {{ dbt.type_string() }}) as offer_id,
        cast(null as double) as score,
        cast(null as boolean) as is_late,
        cast(null as boolean) as is_untracked
    from {{ ref('stg_pos__transaction_lines') }} as store_lines
    left join products on products.product_id = store_lines.product_id

),

offer_events as (

    select
        'offer_events' as source,
        cast(offer_event_id as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_string() }}) as category,
        offer_id,
        cast(null as double) as score,
        cast(null as boolean) as is_late,
        cast(null as boolean) as is_untracked
    from {{ ref('stg_offers__offer_events') }}

),

survey_responses as (

    select
        'survey_responses' as source,
        cast(response_id as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_string() }}) as category,
        cast(null as {{ dbt.type_string() }}) as offer_id,
        cast(nps as double) as score,
        cast(null as boolean) as is_late,
        cast(null as boolean) as is_untracked
    from {{ ref('stg_surveys__responses') }}
    where nps is not null

),

ticket_events as (

    select
        'support_tickets' as source,
        cast(ticket_event_id as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_string() }}) as category,
        cast(null as {{ dbt.type_string() }}) as offer_id,
        cast(csat as double) as score,
        cast(null as boolean) as is_late,
        cast(null as boolean) as is_untracked
    from {{ ref('stg_helpdesk__ticket_events') }}
    where csat is not null

),

shipment_updates as (

    select
        'shipments' as source,
        cast(shipment_update_id as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_string() }}) as category,
        cast(null as {{ dbt.type_string() }}) as offer_id,
        cast(null as double) as score,
        shipment_status = 'delivered' and {{ business_date('status_at') }} > promised_date as is_late,
        tracking_number is null as is_untracked
    from {{ ref('stg_logistics__shipment_updates') }}

),

final as (

    select * from web_and_app
    union all
    select * from order_lines
    union all
    select * from store_lines
    union all
    select * from offer_events
    union all
    select * from survey_responses
    union all
    select * from ticket_events
    union all
    select * from shipment_updates

)

select * from final
