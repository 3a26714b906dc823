{#- The journey signals of config/stages.yml (signals), per person and business day. -#}
{%- set signals = stage_config()['signals'] -%}
{%- set purchase = signals.get('purchase', {}) -%}
{%- set promoter = signals.get('promoter', {}) -%}
{%- set activity = signals.get('activity', {}) -%}
{%- set excluded_statuses = purchase.get('excluded_order_statuses', []) -%}
{%- set review_events = promoter.get('review_events', []) -%}
{%- set referral_events = promoter.get('referral_events', []) -%}

with

person_events as (

    select * from {{ ref('person_events') }}
    where occurred_at is not null

),

segment_events as (

    select cast(event_id as {{ dbt.type_string() }}) as event_id, properties_json from {{ ref('stg_segment__events') }}

),

survey_responses as (

    select cast(response_id as {{ dbt.type_string() }}) as response_id, nps from {{ ref('stg_surveys__responses') }}

),

review_ratings as (

    -- Only review events carry a rating worth parsing out of the properties.
    select
        person_events.source,
        person_events.record_id,
        {{ dbt.safe_cast(json_text('segment_events.properties_json', '$.rating'), dbt.type_numeric()) }} as rating
    from person_events
    inner join segment_events
        on segment_events.event_id = person_events.record_id
    where person_events.source = 'events'
        and person_events.event_name in ({{ stage_names_sql(review_events) }})

),

flagged as (

    select
        person_events.person_id,
        {{ business_date('person_events.occurred_at') }} as signal_date,
        person_events.occurred_at,
        case
            when person_events.source = 'orders'
                {%- if excluded_statuses | length > 0 %}
                and (person_events.event_name is null
                    or person_events.event_name not in ({{ stage_names_sql(excluded_statuses) }}))
                {%- endif %}
                then 1
            {%- if purchase.get('store', true) %}
            when person_events.source = 'pos_transactions' then 1
            {%- endif %}
            else 0
        end as is_purchase,
        case
            when person_events.source = 'events' and person_events.event_type = 'track'
                and person_events.event_name in ({{ stage_names_sql(signals.get('consideration_events', [])) }})
                then 1
            else 0
        end as is_consideration,
        case
            when person_events.source = 'survey_responses'
                and survey_responses.nps >= {{ promoter.get('nps_at_least', 9) }} then 1
            when review_ratings.rating >= {{ promoter.get('review_rating_at_least', 4) }} then 1
            {%- if referral_events | length > 0 %}
            when person_events.source = 'events'
                and person_events.event_name in ({{ stage_names_sql(referral_events) }}) then 1
            {%- endif %}
            else 0
        end as is_promoter,
        case
            {%- for source, names in activity.items() %}
            when person_events.source = '{{ source }}'
                {%- if names != 'any' %}
                and person_events.event_name in ({{ stage_names_sql(names) }})
                {%- endif %}
                then 1
            {%- endfor %}
            else 0
        end as is_activity
    from person_events
    left join survey_responses
        on person_events.source = 'survey_responses'
        and survey_responses.response_id = person_events.record_id
    left join review_ratings
        on review_ratings.source = person_events.source
        and review_ratings.record_id = person_events.record_id

),

signals as (

    select * from flagged
    where is_purchase + is_consideration + is_promoter + is_activity > 0

),

final as (

    select
        person_id,
        signal_date,
        max(is_purchase) = 1 as is_purchase_day,
        max(is_consideration) = 1 as has_consideration,
        max(is_promoter) = 1 as has_promoter,
        max(is_activity) = 1 as has_activity,
        max(occurred_at) as last_signal_at
    from signals
    group by person_id, signal_date

)

select * from final
