{#- Every identifier a source record carries, one row each: the input of identity resolution
    (kizuna/identity), which normalizes the values in Python. Each entry below reads
    (source, staging model, record key, namespace, identifier column, time column[, condition]). -#}
{%- set observations = [
    ('events', 'stg_segment__events', 'event_id', 'anonymous_id', 'anonymous_id', 'event_at', none),
    ('events', 'stg_segment__events', 'event_id', 'user_id', 'user_id', 'event_at', none),
    ('events', 'stg_segment__events', 'event_id', 'device_id', 'device_id', 'event_at', "channel = 'app'"),
    ('events', 'stg_segment__events', 'event_id', 'email', 'trait_email', 'event_at', "event_type = 'identify'"),
    ('events', 'stg_segment__events', 'event_id', 'phone', 'trait_phone', 'event_at', "event_type = 'identify'"),
    ('crm_contacts', 'stg_crm__contacts', 'contact_version_id', 'crm_id', 'crm_id', 'updated_at', none),
    ('crm_contacts', 'stg_crm__contacts', 'contact_version_id', 'email', 'email', 'updated_at', none),
    ('crm_contacts', 'stg_crm__contacts', 'contact_version_id', 'phone', 'phone', 'updated_at', none),
    ('crm_contacts', 'stg_crm__contacts', 'contact_version_id', 'loyalty_card_id', 'loyalty_card_id', 'updated_at', none),
    ('orders', 'stg_shop__orders', 'order_line_id', 'user_id', 'user_id', 'ordered_at', none),
    ('orders', 'stg_shop__orders', 'order_line_id', 'anonymous_id', 'anonymous_id', 'ordered_at', none),
    ('email_events', 'stg_esp__email_events', 'email_event_id', 'email', 'email', 'occurred_at', none),
    ('email_events', 'stg_esp__email_events', 'email_event_id', 'crm_id', 'crm_id', 'occurred_at', none),
    ('support_tickets', 'stg_helpdesk__ticket_events', 'ticket_event_id', 'crm_id', 'crm_id', 'occurred_at', none),
    ('support_tickets', 'stg_helpdesk__ticket_events', 'ticket_event_id', 'email', 'email', 'occurred_at', none),
    ('support_tickets', 'stg_helpdesk__ticket_events', 'ticket_event_id', 'phone', 'phone', 'occurred_at', none),
    ('survey_responses', 'stg_surveys__responses', 'response_id', 'crm_id', 'crm_id', 'submitted_at', none),
    ('survey_responses', 'stg_surveys__responses', 'response_id', 'email', 'email', 'submitted_at', none),
    ('pos_transactions', 'stg_pos__transaction_lines', 'transaction_line_id', 'loyalty_card_id', 'loyalty_card_id', 'transacted_at', none),
    ('loyalty_members', 'stg_loyalty__members', 'membership_id', 'loyalty_card_id', 'loyalty_card_id', 'signed_up_at', none),
    ('loyalty_members', 'stg_loyalty__members', 'membership_id', 'email', 'email', 'signed_up_at', none),
    ('loyalty_members', 'stg_loyalty__members', 'membership_id', 'phone', 'phone', 'signed_up_at', none),
    ('ad_touchpoints', 'stg_ads__touchpoints', 'touchpoint_id', 'anonymous_id', 'anonymous_id', 'occurred_at', none),
    ('ad_touchpoints', 'stg_ads__touchpoints', 'touchpoint_id', 'device_id', 'device_id', 'occurred_at', none),
    ('consent_events', 'stg_consent__events', 'consent_event_id', 'user_id', 'user_id', 'occurred_at', none),
    ('consent_events', 'stg_consent__events', 'consent_event_id', 'anonymous_id', 'anonymous_id', 'occurred_at', none),
    ('consent_events', 'stg_consent__events', 'consent_event_id', 'email', 'email', 'occurred_at', none),
    ('consent_events', 'stg_consent__events', 'consent_event_id', 'crm_id', 'crm_id', 'occurred_at', none),
    ('consent_events', 'stg_consent__events', 'consent_event_id', 'loyalty_card_id', 'loyalty_card_id', 'occurred_at', none),
    ('offer_events', 'stg_offers__offer_events', 'offer_event_id', 'user_id', 'user_id', 'occurred_at', none),
    ('offer_events', 'stg_offers__offer_events', 'offer_event_id', 'crm_id', 'crm_id', 'occurred_at', none),
    ('offer_events', 'stg_offers__offer_events', 'offer_event_id', 'anonymous_id', 'anonymous_id', 'occurred_at', none),
] -%}
{%- set models = [] -%}
{%- for o in observations if o[1] not in models -%}{%- do models.append(o[1]) -%}{%- endfor -%}

with

{% for model in models %}
{{ model }} as (

    select * from {{ ref(model) }}

),

{% endfor %}
observations as (

    {% for source, model, record_key, namespace, column, time_column, condition in observations %}
    select
        '{{ source }}' as source,
        cast({{ record_key }} as {{ dbt.type_string() }}) as record_id,
        '{{ namespace }}' as namespace,
        cast({{ column }} as {{ dbt.type_string() }}) as value_raw,
        {{ time_column }} as observed_at
    from {{ model }}
    {%- if condition %}
    where {{ condition }}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    -- Values are kept exactly as seen (normalization is identity's job); only absent ones go.
    select * from observations
    where value_raw is not null
      and trim(value_raw) != ''

)

select * from final
