{#- The base measures of the KPI tree per business day: the only names a node's formula may use
    (macros/kpi_tree.sql kpi_measure_names). Person counts are distinct persons of that day, so over
    a period they add up to person-days; kpi_values sums every measure over the period before it
    applies a formula. -#}
{%- set reactivation_days = (var('kizuna__kpi_tree', none) or {}).get('reactivation_days', 120) -%}
{%- if reactivation_days is not number or reactivation_days < 1 -%}
    {{ exceptions.raise_compiler_error("config/kpi_tree.yml: kizuna__kpi_tree.reactivation_days must be a whole number of days >= 1") }}
{%- endif -%}

with

person_events as (

    select * from {{ ref('person_events') }}

),

order_lines as (

    select * from {{ ref('stg_shop__orders') }}

),

store_lines as (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

survey_responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

dated_events as (

    select
        person_id,
        source,
        event_type,
        event_name,
        record_id,
        amount,
        {{ business_date('occurred_at') }} as measure_date
    from person_events
    where occurred_at is not null

),

-- The days measured: from the first to the last day of web, app and purchase activity (CRM and
-- loyalty records carry creation times long before the data starts).
bounds as (

    select
        min(measure_date) as first_date,
        max(measure_date) as last_date
    from dated_events
    where source in ('events', 'orders', 'pos_transactions')

),

days as (

    {{ day_spine('bounds.first_date', 'bounds.last_date', 'bounds') }}

),

-- A purchase line: an online order line that was not cancelled, or a store line.
purchase_lines as (

    select
        dated_events.person_id,
        dated_events.measure_date,
        {{ dbt.concat(["'order:'", 'order_lines.order_id']) }} as order_key,
        1 as is_online,
        order_lines.quantity,
        dated_events.amount
    from dated_events
    inner join order_lines
        on dated_events.source = 'orders'
        and dated_events.record_id = cast(order_lines.order_line_id as {{ dbt.type_string() }})
    where dated_events.event_name <> 'cancelled'

    union all

    select
        dated_events.person_id,
        dated_events.measure_date,
        {{ dbt.concat(["'store:'", 'store_lines.transaction_id']) }} as order_key,
        0 as is_online,
        store_lines.quantity,
        dated_events.amount
    from dated_events
    inner join store_lines
        on dated_events.source = 'pos_transactions'
        and dated_events.record_id = cast(store_lines.transaction_line_id as {{ dbt.type_string() }})

),

purchase_days as (

    select distinct
        person_id,
        measure_date
    from purchase_lines

),

buyer_days as (

    select
        person_id,
        measure_date,
        lag(measure_date) over (partition by person_id order by measure_date) as previous_purchase_date
    from purchase_days

),

buyers_daily as (

    select
        measure_date,
        sum(case when previous_purchase_date is null then 1 else 0 end) as new_buyers,
        sum(case when previous_purchase_date is not null then 1 else 0 end) as repeat_buyers,
        sum(
            case
                when {{ dbt.datediff('previous_purchase_date', 'measure_date', 'day') }} >= {{ reactivation_days }}
                    then 1
                else 0
            end
        ) as reactivated_buyers
    from buyer_days
    group by measure_date

),

purchases_daily as (

    select
        measure_date,
        count(distinct person_id) as buyers,
        count(distinct case when is_online = 1 then person_id end) as online_buyers,
        count(distinct order_key) as orders,
        sum(quantity) as units,
        sum(amount) as revenue
    from purchase_lines
    group by measure_date

),

events_daily as (

    select
        measure_date,
        count(distinct case when source = 'events' then person_id end) as visitors,
        count(distinct case when source = 'ad_touchpoints' and event_name = 'impression' then person_id end) as ad_reach,
        sum(case when source = 'ad_touchpoints' and event_name = 'click' then 1 else 0 end) as ad_clicks,
        count(distinct case when source = 'events' and event_name = 'Product Viewed' then person_id end) as product_viewers,
        count(distinct case when source = 'events' and event_name = 'Product Added' then person_id end) as cart_adders,
        count(distinct case when source = 'events' and event_name = 'Checkout Started' then person_id end) as checkout_starters,
        sum(case when source = 'events' and event_name = 'Payment Failed' then 1 else 0 end) as payment_failures,
        sum(case when source = 'events' and event_name = 'Signed Up' then 1 else 0 end) as signups,
        sum(case when source = 'events' and event_name = 'Application Installed' then 1 else 0 end) as app_installs,
        sum(case when source = 'events' and event_name = 'Review Submitted' then 1 else 0 end) as reviews,
        sum(case when source = 'events' and event_name = 'Referral Sent' then 1 else 0 end) as referrals,
        sum(case when source = 'loyalty_members' then 1 else 0 end) as loyalty_signups,
        sum(case when source = 'email_events' and event_name = 'delivered' then 1 else 0 end) as email_deliveries,
        sum(case when source = 'email_events' and event_name = 'click' then 1 else 0 end) as email_clicks,
        sum(case when source = 'email_events' and event_name = 'unsubscribe' then 1 else 0 end) as email_unsubscribes,
        sum(case when source = 'support_tickets' and event_name = 'opened' then 1 else 0 end) as tickets_opened,
        -- The refund's sign depends on the source's convention; money given back counts positive.
        sum(case when source = 'refunds' then abs(amount) else 0 end) as refunds
    from dated_events
    group by measure_date

),

nps_daily as (

    select
        dated_events.measure_date,
        sum(case when survey_responses.nps >= 9 then 1 else 0 end) as promoters,
        sum(case when survey_responses.nps between 7 and 8 then 1 else 0 end) as passives,
        sum(case when survey_responses.nps <= 6 then 1 else 0 end) as detractors,
        count(*) as nps_responses
    from dated_events
    inner join survey_responses
        on dated_events.source = 'survey_responses'
        and dated_events.record_id = cast(survey_responses.response_id as {{ dbt.type_string() }})
    where survey_responses.nps is not null
    group by dated_events.measure_date

),

final as (

    select
        days.spine_date as measure_date,
        {%- for column, relation, data_type in [
            ('visitors', 'events_daily', 'bigint'), ('ad_reach', 'events_daily', 'bigint'),
            ('ad_clicks', 'events_daily', 'bigint'), ('product_viewers', 'events_daily', 'bigint'),
            ('cart_adders', 'events_daily', 'bigint'), ('checkout_starters', 'events_daily', 'bigint'),
            ('payment_failures', 'events_daily', 'bigint'), ('online_buyers', 'purchases_daily', 'bigint'),
            ('buyers', 'purchases_daily', 'bigint'), ('new_buyers', 'buyers_daily', 'bigint'),
            ('repeat_buyers', 'buyers_daily', 'bigint'), ('reactivated_buyers', 'buyers_daily', 'bigint'),
            ('orders', 'purchases_daily', 'bigint'), ('units', 'purchases_daily', 'bigint'),
            ('revenue', 'purchases_daily', 'double'), ('refunds', 'events_daily', 'double'),
            ('signups', 'events_daily', 'bigint'), ('loyalty_signups', 'events_daily', 'bigint'),
            ('app_installs', 'events_daily', 'bigint'), ('email_deliveries', 'events_daily', 'bigint'),
            ('email_clicks', 'events_daily', 'bigint'), ('email_unsubscribes', 'events_daily', 'bigint'),
            ('tickets_opened', 'events_daily', 'bigint'), ('promoters', 'nps_daily', 'bigint'),
            ('passives', 'nps_daily', 'bigint'), ('detractors', 'nps_daily', 'bigint'),
            ('nps_responses', 'nps_daily', 'bigint'), ('reviews', 'events_daily', 'bigint'),
            ('referrals', 'events_daily', 'bigint'),
        ] %}
        cast(coalesce({{ relation }}.{{ column }}, 0) as {{ data_type }}) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from days
    left join events_daily on events_daily.measure_date = days.spine_date
    left join purchases_daily on purchases_daily.measure_date = days.spine_date
    left join buyers_daily on buyers_daily.measure_date = days.spine_date
    left join nps_daily on nps_daily.measure_date = days.spine_date

)

select * from final
