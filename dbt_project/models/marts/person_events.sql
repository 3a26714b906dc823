{#- Every event of every source under its person id. Records carrying an identifier take their
    person from identity.record_persons; shipments and refunds carry none and follow their order.
    Each entry reads (source, staging model, record key, event type, event name, time column,
    channel, amount): SQL expressions over the staging model's columns. -#}
{%- set null_text = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
{%- set null_amount = 'cast(null as double)' -%}
{%- set person_sources = [
    ('events', 'stg_segment__events', 'event_id', 'event_type', 'coalesce(event_name, screen_or_page_name)', 'event_at', 'channel', null_amount),
    ('orders', 'stg_shop__orders', 'order_line_id', "'order_line'", 'order_status', 'ordered_at', 'channel', 'quantity * unit_price - coalesce(discount, 0)'),
    ('email_events', 'stg_esp__email_events', 'email_event_id', "'email'", 'email_event_type', 'occurred_at', "'email'", null_amount),
    ('support_tickets', 'stg_helpdesk__ticket_events', 'ticket_event_id', "'ticket'", 'ticket_event_type', 'occurred_at', 'contact_channel', null_amount),
    ('survey_responses', 'stg_surveys__responses', 'response_id', "'survey'", 'survey_id', 'submitted_at', 'touchpoint', null_amount),
    ('pos_transactions', 'stg_pos__transaction_lines', 'transaction_line_id', "'pos_line'", "'purchase'", 'transacted_at', "'store'", 'amount'),
    ('consent_events', 'stg_consent__events', 'consent_event_id', "'consent'", dbt.concat(['purpose', "':'", 'consent_status']), 'occurred_at', 'consent_source', null_amount),
    ('offer_events', 'stg_offers__offer_events', 'offer_event_id', "'offer'", 'outcome', 'occurred_at', 'offer_channel', null_amount),
    ('ad_touchpoints', 'stg_ads__touchpoints', 'touchpoint_id', "'ad'", 'interaction', 'occurred_at', 'ad_channel', null_amount),
    ('crm_contacts', 'stg_crm__contacts', 'contact_version_id', "'crm'", "'contact_updated'", 'updated_at', "'crm'", null_amount),
    ('loyalty_members', 'stg_loyalty__members', 'membership_id', "'loyalty'", "'signed_up'", 'signed_up_at', "'store'", null_amount),
] -%}
{%- set order_sources = [
    ('shipments', 'stg_logistics__shipment_updates', 'shipment_update_id', "'shipment'", 'shipment_status', 'status_at', 'carrier', null_amount),
    ('refunds', 'stg_shop__refunds', 'refund_id', "'refund'", 'refund_kind', 'refunded_at', null_text, '-amount'),
] -%}

with

record_persons as (

    select * from {{ source('identity', 'record_persons') }}

),

order_lines as (

    select * from {{ ref('stg_shop__orders') }}

),

order_persons as (

    -- An order's person is the person of its lines (one, unless a line's identifiers were shared).
    select
        order_lines.order_id,
        min(record_persons.person_id) as person_id
    from order_lines
    inner join record_persons
        on record_persons.source = 'orders'
        and record_persons.record_id = cast(order_lines.order_line_id as {{ dbt.type_string() }})
    group by order_lines.order_id

),

{% for source, model, key, event_type, event_name, time_column, channel, amount in person_sources + order_sources %}
{{ source }} as (

    select
        {%- if loop.index <= person_sources | length %}
        record_persons.person_id,
        {%- else %}
        order_persons.person_id,
        {%- endif %}
        '{{ source }}' as source,
        cast(records.{{ key }} as {{ dbt.type_string() }}) as record_id,
        cast({{ event_type }} as {{ dbt.type_string() }}) as event_type,
        cast({{ event_name }} as {{ dbt.type_string() }}) as event_name,
        cast({{ time_column }} as {{ dbt.type_timestamp() }}) as occurred_at,
        cast({{ channel }} as {{ dbt.type_string() }}) as channel,
        cast({{ amount }} as double) as amount
    from {{ ref(model) }} as records
    {%- if loop.index <= person_sources | length %}
    inner join record_persons
        on record_persons.source = '{{ source }}'
        and record_persons.record_id = cast(records.{{ key }} as {{ dbt.type_string() }})
    {%- else %}
    inner join order_persons
        on order_persons.order_id = records.order_id
    {%- endif %}

),

{% endfor %}
final as (

    {% for source in (person_sources + order_sources) | map(attribute=0) %}
    select * from {{ source }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
