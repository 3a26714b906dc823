{#- What a person did, computed from person_events and the staging models behind it: sessions,
    purchases and RFM, favourite category, channels and devices, support, NPS, email engagement.
    Time-relative traits (recency, the last 90 days) are measured from `as_of`: the var
    kizuna__as_of when set, else the latest event time in person_events, so a rebuild of the same
    data gives the same profile. -#}
{%- set session_gap_seconds = 30 * 60 -%}
{%- set engagement_days = 90 -%}
{%- set activity_sources = ['events', 'orders', 'pos_transactions', 'email_events', 'support_tickets'] -%}

with

person_events as (

    select * from {{ ref('person_events') }}

),

record_persons as (

    select * from {{ source('identity', 'record_persons') }}

),

segment_events as (

    select * from {{ ref('stg_segment__events') }}

),

order_lines as (

    select * from {{ ref('stg_shop__orders') }}

),

pos_lines as (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

products as (

    select * from {{ ref('stg_catalog__products') }}

),

ticket_events as (

    select * from {{ ref('stg_helpdesk__ticket_events') }}

),

survey_responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

as_of as (

    select
        {%- if var('kizuna__as_of', none) %}
        cast('{{ var("kizuna__as_of") }}' as {{ dbt.type_timestamp() }}) as as_of_at
        {%- else %}
        max(occurred_at) as as_of_at
    from person_events
        {%- endif %}

),

web_app_events as (

    select
        person_id,
        occurred_at,
        {{ epoch_seconds('occurred_at') }}
            - {{ epoch_seconds('lag(occurred_at) over (partition by person_id order by occurred_at, record_id)') }}
            as seconds_since_previous
    from person_events
    where source = 'events'
        and channel in ('web', 'app')
        and occurred_at is not null

),

sessions as (

    -- A session starts at a web or app event more than 30 minutes after the person's previous one.
    select
        person_id,
        sum(case when seconds_since_previous is null or seconds_since_previous > {{ session_gap_seconds }} then 1 else 0 end) as sessions
    from web_app_events
    group by person_id

),

purchases as (

    -- Online orders and store transactions, each counted once.
    select
        record_persons.person_id,
        {{ dbt.concat(["'order:'", "order_lines.order_id"]) }} as purchase_id,
        order_lines.product_id,
        order_lines.quantity
    from order_lines
    inner join record_persons
        on record_persons.source = 'orders'
        and record_persons.record_id = cast(order_lines.order_line_id as {{ dbt.type_string() }})
    union all
    select
        record_persons.person_id,
        {{ dbt.concat(["'pos:'", "pos_lines.transaction_id"]) }} as purchase_id,
        pos_lines.product_id,
        pos_lines.quantity
    from pos_lines
    inner join record_persons
        on record_persons.source = 'pos_transactions'
        and record_persons.record_id = cast(pos_lines.transaction_line_id as {{ dbt.type_string() }})

),

orders as (

    select person_id, count(distinct purchase_id) as orders
    from purchases
    group by person_id

),

money as (

    -- Refunds are negative amounts: revenue is net of them.
    select
        person_id,
        sum(amount) as revenue,
        max(case when source in ('orders', 'pos_transactions') then occurred_at end) as last_order_at
    from person_events
    where source in ('orders', 'pos_transactions', 'refunds')
    group by person_id

),

product_categories as (

    -- The catalog keeps versions: a product's category is the one of its latest version.
    select product_id, category
    from (
        select
            product_id,
            category,
            row_number() over (partition by product_id order by updated_at desc, product_version_id desc) as version_rank
        from products
    ) as versions
    where version_rank = 1

),

category_units as (

    select
        purchases.person_id,
        product_categories.category,
        sum(coalesce(purchases.quantity, 1)) as units
    from purchases
    inner join product_categories on product_categories.product_id = purchases.product_id
    where product_categories.category is not null
    group by purchases.person_id, product_categories.category

),

favourite_categories as (

    select person_id, category as favourite_category
    from (
        select
            person_id,
            category,
            row_number() over (partition by person_id order by units desc, category) as category_rank
        from category_units
    ) as ranked
    where category_rank = 1

),

channels as (

    -- Where the person acted: web and app events, orders, stores, email opens and clicks, tickets.
    select
        person_id,
        {{ string_agg_sorted('channel') }} as channels_used
    from person_events
    where source in ('{{ activity_sources | join("', '") }}')
        and (source != 'email_events' or event_name in ('open', 'click'))
    group by person_id

),

devices as (

    select
        record_persons.person_id,
        {{ string_agg_sorted('segment_events.device_type') }} as devices_used
    from segment_events
    inner join record_persons
        on record_persons.source = 'events'
        and record_persons.record_id = segment_events.event_id
    group by record_persons.person_id

),

tickets as (

    select
        record_persons.person_id,
        ticket_events.ticket_id,
        max(case when ticket_events.ticket_event_type = 'opened' then 1 else 0 end) as was_opened,
        max(case when ticket_events.ticket_event_type = 'resolved' then 1 else 0 end) as was_resolved
    from ticket_events
    inner join record_persons
        on record_persons.source = 'support_tickets'
        and record_persons.record_id = ticket_events.ticket_event_id
    group by record_persons.person_id, ticket_events.ticket_id

),

open_tickets as (

    select person_id, sum(case when was_opened = 1 and was_resolved = 0 then 1 else 0 end) as open_tickets
    from tickets
    group by person_id

),

last_nps as (

    select person_id, nps as last_nps, submitted_at as last_nps_at
    from (
        select
            record_persons.person_id,
            survey_responses.nps,
            survey_responses.submitted_at,
            row_number() over (
                partition by record_persons.person_id
                order by survey_responses.submitted_at desc, survey_responses.response_id desc
            ) as response_rank
        from survey_responses
        inner join record_persons
            on record_persons.source = 'survey_responses'
            and record_persons.record_id = survey_responses.response_id
        where survey_responses.nps is not null
    ) as ranked
    where response_rank = 1

),

email_engagement as (

    select
        person_events.person_id,
        sum(case when person_events.event_name = 'open' and person_events.occurred_at > as_of.as_of_at_minus_window then 1 else 0 end) as email_opens_90d,
        sum(case when person_events.event_name = 'click' and person_events.occurred_at > as_of.as_of_at_minus_window then 1 else 0 end) as email_clicks_90d,
        max(case when person_events.event_name = 'unsubscribe' then 1 else 0 end) as has_unsubscribed
    from person_events
    cross join (
        select {{ add_days('as_of_at', -engagement_days) }} as as_of_at_minus_window from as_of
    ) as as_of
    where person_events.source = 'email_events'
    group by person_events.person_id

),

persons as (

    select distinct person_id from person_events

),

rfm as (

    -- Recency in calendar days (UTC) from the last order to as_of; scores 1-5 by ntile among
    -- buyers only (5 = most recent, most frequent, highest spend), ties broken by person id.
    select
        money.person_id,
        {{ dbt.datediff('cast(money.last_order_at as date)', 'cast(as_of.as_of_at as date)', 'day') }} as recency_days
    from money
    cross join as_of
    where money.last_order_at is not null

),

joined as (

    select
        persons.person_id,
        coalesce(sessions.sessions, 0) as sessions,
        coalesce(orders.orders, 0) as orders,
        coalesce(money.revenue, 0) as revenue,
        money.last_order_at,
        rfm.recency_days,
        favourite_categories.favourite_category,
        channels.channels_used,
        devices.devices_used,
        coalesce(open_tickets.open_tickets, 0) as open_tickets,
        last_nps.last_nps,
        last_nps.last_nps_at,
        coalesce(email_engagement.email_opens_90d, 0) as email_opens_90d,
        coalesce(email_engagement.email_clicks_90d, 0) as email_clicks_90d,
        coalesce(email_engagement.has_unsubscribed, 0) = 1 as is_email_unsubscribed
    from persons
    left join sessions on sessions.person_id = persons.person_id
    left join orders on orders.person_id = persons.person_id
    left join money on money.person_id = persons.person_id
    left join rfm on rfm.person_id = persons.person_id
    left join favourite_categories on favourite_categories.person_id = persons.person_id
    left join channels on channels.person_id = persons.person_id
    left join devices on devices.person_id = persons.person_id
    left join open_tickets on open_tickets.person_id = persons.person_id
    left join last_nps on last_nps.person_id = persons.person_id
    left join email_engagement on email_engagement.person_id = persons.person_id

),

final as (

    select
        *,
        case when orders > 0 then revenue / orders end as average_order_value,
        case when orders > 0 then ntile(5) over (
            partition by case when orders > 0 then 1 else 0 end
            order by recency_days desc nulls last, person_id
        ) end as recency_score,
        case when orders > 0 then ntile(5) over (
            partition by case when orders > 0 then 1 else 0 end
            order by orders, person_id
        ) end as frequency_score,
        case when orders > 0 then ntile(5) over (
            partition by case when orders > 0 then 1 else 0 end
            order by revenue, person_id
        ) end as monetary_score
    from joined

)

select * from final
