{#- The unified profile: one row per person with their identifiers by namespace, the attributes that
    survive (int_person_attributes_survived, rules in config/profile.yml), the computed traits
    (int_person_traits_computed) and consent per purpose (int_person_consents_resolved). -#}
{%- set namespaces = var('kizuna__identifier_namespaces') -%}
{%- set purposes = ['analytics', 'personalization', 'email_marketing', 'advertising', 'sms_marketing', 'data_sharing'] -%}
{%- set string = dbt.type_string() -%}
{%- set timestamp = dbt.type_timestamp() -%}
{%- set integer = dbt.type_int() -%}

with

identity_graph as (

    select * from {{ ref('identity_graph') }}

),

attributes as (

    select * from {{ ref('int_person_attributes_survived') }}

),

traits as (

    select * from {{ ref('int_person_traits_computed') }}

),

consents as (

    select * from {{ ref('int_person_consents_resolved') }}

),

persons as (

    select distinct person_id from identity_graph

),

identifiers as (

    -- Shared identifiers belong to nobody in particular: they are not listed under a person.
    select
        person_id,
        {% for namespace in namespaces %}
        {{ string_agg_sorted("case when namespace = '" ~ namespace ~ "' then value end") }} as {{ namespace }}s,
        {% endfor %}
        min(first_seen) as first_seen,
        max(last_seen) as last_seen
    from identity_graph
    where not is_shared
    group by person_id

),

consent_columns as (

    select
        person_id,
        {% for purpose in purposes %}
        max(case when purpose = '{{ purpose }}' then consent_status end) as consent_{{ purpose }}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from consents
    group by person_id

),

final as (

    select
        persons.person_id,
        {% for namespace in namespaces %}
        cast(identifiers.{{ namespace }}s as {{ string }}) as {{ namespace }}s,
        {% endfor %}
        cast(attributes.full_name_kanji as {{ string }}) as full_name_kanji,
        cast(attributes.full_name_kana as {{ string }}) as full_name_kana,
        cast(attributes.birth_date as date) as birth_date,
        cast(attributes.gender as {{ string }}) as gender,
        cast(attributes.postcode as {{ string }}) as postcode,
        cast(attributes.prefecture as {{ string }}) as prefecture,
        cast(attributes.email as {{ string }}) as email,
        cast(attributes.phone as {{ string }}) as phone,
        cast(identifiers.first_seen as {{ timestamp }}) as first_seen,
        cast(identifiers.last_seen as {{ timestamp }}) as last_seen,
        cast(coalesce(traits.sessions, 0) as {{ integer }}) as sessions,
        cast(coalesce(traits.orders, 0) as {{ integer }}) as orders,
        cast(coalesce(traits.revenue, 0) as double) as revenue,
        cast(traits.average_order_value as double) as average_order_value,
        cast(traits.last_order_at as {{ timestamp }}) as last_order_at,
        cast(traits.recency_days as {{ integer }}) as recency_days,
        cast(traits.recency_score as {{ integer }}) as recency_score,
        cast(traits.frequency_score as {{ integer }}) as frequency_score,
        cast(traits.monetary_score as {{ integer }}) as monetary_score,
        cast(traits.favourite_category as {{ string }}) as favourite_category,
        cast(traits.channels_used as {{ string }}) as channels_used,
        cast(traits.devices_used as {{ string }}) as devices_used,
        cast(coalesce(traits.open_tickets, 0) as {{ integer }}) as open_tickets,
        cast(traits.last_nps as {{ integer }}) as last_nps,
        cast(traits.last_nps_at as {{ timestamp }}) as last_nps_at,
        cast(coalesce(traits.email_opens_90d, 0) as {{ integer }}) as email_opens_90d,
        cast(coalesce(traits.email_clicks_90d, 0) as {{ integer }}) as email_clicks_90d,
        cast(coalesce(traits.is_email_unsubscribed, false) as {{ dbt.type_boolean() }}) as is_email_unsubscribed,
        {% for purpose in purposes %}
        cast(consent_columns.consent_{{ purpose }} as {{ string }}) as consent_{{ purpose }}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from persons
    left join identifiers on identifiers.person_id = persons.person_id
    left join attributes on attributes.person_id = persons.person_id
    left join traits on traits.person_id = persons.person_id
    left join consent_columns on consent_columns.person_id = persons.person_id

)

select * from final
