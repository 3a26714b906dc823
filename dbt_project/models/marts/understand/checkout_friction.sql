{#- Where checkouts fail, by business month, channel and device: carts left before checkout,
    checkouts left before or after entering payment, how far abandoned checkouts got, payment
    failures and whether the buyer recovered, and how long completed checkouts took. The events
    are the tracking plan's (data_contracts/events.yml), not the configurable funnel: these are
    the checkout's own steps. -#}

with

sessions as (

    select * from {{ ref('int_funnel_sessions') }}

),

flagged as (

    select
        cast({{ dbt.date_trunc('month', 'session_date') }} as date) as period_month,
        channel,
        device_type,
        checkout_steps_completed,
        payment_failures,
        case when first_product_added_at is not null then 1 else 0 end as has_cart,
        case when first_checkout_started_at is not null then 1 else 0 end as has_checkout,
        case when first_payment_info_at is not null then 1 else 0 end as has_payment,
        case when first_order_completed_at is not null then 1 else 0 end as has_order,
        case when payment_failures > 0 then 1 else 0 end as has_payment_failure,
        case
            when first_checkout_started_at is not null and first_order_completed_at >= first_checkout_started_at
                then {{ epoch_seconds('first_order_completed_at') }} - {{ epoch_seconds('first_checkout_started_at') }}
        end as checkout_seconds
    from sessions

),

grouped as (

    select
        period_month,
        channel,
        device_type,
        count(*) as sessions,
        sum(has_cart) as cart_sessions,
        sum(has_checkout) as checkout_sessions,
        sum(has_payment) as payment_sessions,
        sum(has_order) as order_sessions,
        sum(case when has_cart = 1 and has_checkout = 0 and has_order = 0 then 1 else 0 end) as carts_abandoned,
        sum(case when has_checkout = 1 and has_order = 0 then 1 else 0 end) as checkouts_abandoned,
        sum(case when has_checkout = 1 and has_payment = 0 and has_order = 0 then 1 else 0 end) as abandoned_before_payment,
        sum(case when has_payment = 1 and has_order = 0 then 1 else 0 end) as abandoned_after_payment,
        avg(case when has_checkout = 1 and has_order = 0 then cast(checkout_steps_completed as double) end) as abandoned_checkout_steps_avg,
        sum(has_payment_failure) as payment_failed_sessions,
        sum(payment_failures) as payment_failed_events,
        sum(case when has_payment_failure = 1 and has_order = 1 then 1 else 0 end) as payment_failures_recovered,
        avg(checkout_seconds) as checkout_seconds_avg
    from flagged
    group by period_month, channel, device_type

),

final as (

    select
        period_month,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(device_type as {{ dbt.type_string() }}) as device_type,
        cast(sessions as {{ dbt.type_int() }}) as sessions,
        cast(cart_sessions as {{ dbt.type_int() }}) as cart_sessions,
        cast(checkout_sessions as {{ dbt.type_int() }}) as checkout_sessions,
        cast(payment_sessions as {{ dbt.type_int() }}) as payment_sessions,
        cast(order_sessions as {{ dbt.type_int() }}) as order_sessions,
        cast(carts_abandoned as {{ dbt.type_int() }}) as carts_abandoned,
        cast(case when cart_sessions > 0 then cast(carts_abandoned as double) / cart_sessions end as double) as cart_abandonment_rate,
        cast(checkouts_abandoned as {{ dbt.type_int() }}) as checkouts_abandoned,
        cast(case when checkout_sessions > 0 then cast(checkouts_abandoned as double) / checkout_sessions end as double) as checkout_abandonment_rate,
        cast(abandoned_before_payment as {{ dbt.type_int() }}) as abandoned_before_payment,
        cast(abandoned_after_payment as {{ dbt.type_int() }}) as abandoned_after_payment,
        cast(abandoned_checkout_steps_avg as double) as abandoned_checkout_steps_avg,
        cast(payment_failed_sessions as {{ dbt.type_int() }}) as payment_failed_sessions,
        cast(payment_failed_events as {{ dbt.type_int() }}) as payment_failed_events,
        cast(case when payment_sessions > 0 then cast(payment_failed_sessions as double) / payment_sessions end as double) as payment_failure_rate,
        cast(payment_failures_recovered as {{ dbt.type_int() }}) as payment_failures_recovered,
        cast(checkout_seconds_avg as double) as checkout_seconds_avg
    from grouped

)

select * from final
