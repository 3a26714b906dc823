{#- A first unified profile: one row per person, their identifiers by namespace, when they were
    seen, and what they bought. Survivorship attributes and the computed traits come later. -#}
{%- set namespaces = var('kizuna__identifier_namespaces') -%}

with

identity_graph as (

    select * from {{ ref('identity_graph') }}

),

person_events as (

    select * from {{ ref('person_events') }}

),

record_persons as (

    select * from {{ source('identity', 'record_persons') }}

),

order_lines as (

    select * from {{ ref('stg_shop__orders') }}

),

pos_lines as (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

identifiers as (

    -- Shared identifiers belong to nobody in particular: they are not listed under a person.
    select
        person_id,
        {% for namespace in namespaces %}
        {{ dbt.listagg("case when namespace = '" ~ namespace ~ "' then value end", "', '", "order by value") }}
            as {{ namespace }}s,
        {% endfor %}
        min(first_seen) as first_seen,
        max(last_seen) as last_seen
    from identity_graph
    where not is_shared
    group by person_id

),

persons as (

    select distinct person_id from identity_graph

),

purchases as (

    -- Online orders and store transactions, each counted once.
    select record_persons.person_id, {{ dbt.concat(["'order:'", "order_lines.order_id"]) }} as purchase_id
    from order_lines
    inner join record_persons
        on record_persons.source = 'orders'
        and record_persons.record_id = cast(order_lines.order_line_id as {{ dbt.type_string() }})
    union all
    select record_persons.person_id, {{ dbt.concat(["'pos:'", "pos_lines.transaction_id"]) }} as purchase_id
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

    select
        person_id,
        sum(amount) as revenue,
        max(case when source in ('orders', 'pos_transactions') then occurred_at end) as last_order_at
    from person_events
    where source in ('orders', 'pos_transactions', 'refunds')
    group by person_id

),

final as (

    select
        persons.person_id,
        {% for namespace in namespaces %}
        cast(identifiers.{{ namespace }}s as {{ dbt.type_string() }}) as {{ namespace }}s,
        {% endfor %}
        cast(identifiers.first_seen as {{ dbt.type_timestamp() }}) as first_seen,
        cast(identifiers.last_seen as {{ dbt.type_timestamp() }}) as last_seen,
        cast(coalesce(orders.orders, 0) as {{ dbt.type_int() }}) as orders,
        cast(coalesce(money.revenue, 0) as double) as revenue,
        cast(money.last_order_at as {{ dbt.type_timestamp() }}) as last_order_at
    from persons
    left join identifiers on identifiers.person_id = persons.person_id
    left join orders on orders.person_id = persons.person_id
    left join money on money.person_id = persons.person_id

)

select * from final
