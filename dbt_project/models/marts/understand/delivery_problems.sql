{#- Delivery problems per business week and carrier, from the carriers' status updates: parcels
    without a tracking number, delivered after the promised date, returned to the sender, or
    still not delivered once the promised date has passed. A shipment counts in the week it was
    first reported (normally shipped). -#}

with

updates as (

    select * from {{ ref('stg_logistics__shipment_updates') }}

),

person_events as (

    select * from {{ ref('person_events') }}

),

shipment_persons as (

    select
        updates.shipment_id,
        min(person_events.person_id) as person_id
    from updates
    inner join person_events
        on person_events.source = 'shipments'
        and person_events.record_id = cast(updates.shipment_update_id as {{ dbt.type_string() }})
    group by updates.shipment_id

),

shipments as (

    select
        shipment_id,
        min(carrier) as carrier,
        max(case when trim(coalesce(tracking_number, '')) <> '' then 1 else 0 end) as is_tracked,
        min(promised_date) as promised_date,
        min({{ business_date('status_at') }}) as first_status_date,
        min(case when shipment_status = 'delivered' then {{ business_date('status_at') }} end) as delivered_date,
        max(case when shipment_status = 'returned_to_sender' then 1 else 0 end) as is_returned
    from updates
    where status_at is not null
    group by shipment_id

),

observed as (

    -- The last business day the carriers reported on: a promise after it is not yet due.
    select max({{ business_date('status_at') }}) as last_date
    from updates

),

judged as (

    select
        cast({{ dbt.date_trunc('week', 'shipments.first_status_date') }} as date) as week_start,
        coalesce(shipments.carrier, 'unknown') as carrier,
        shipment_persons.person_id,
        shipments.is_tracked,
        shipments.is_returned,
        case when shipments.delivered_date is not null then 1 else 0 end as is_delivered,
        case when shipments.delivered_date > shipments.promised_date then 1 else 0 end as is_late,
        case
            when shipments.delivered_date > shipments.promised_date
                then {{ dbt.datediff('shipments.promised_date', 'shipments.delivered_date', 'day') }}
        end as days_late,
        case
            when shipments.delivered_date is null and shipments.is_returned = 0
                and shipments.promised_date < observed.last_date then 1
            else 0
        end as is_overdue
    from shipments
    cross join observed
    left join shipment_persons
        on shipment_persons.shipment_id = shipments.shipment_id

),

grouped as (

    select
        week_start,
        carrier,
        count(*) as shipments,
        sum(1 - is_tracked) as untracked,
        sum(is_delivered) as delivered,
        sum(is_late) as delivered_late,
        avg(days_late) as days_late_avg,
        sum(is_returned) as returned_to_sender,
        sum(is_overdue) as overdue,
        sum(case when is_tracked = 0 or is_late = 1 or is_returned = 1 or is_overdue = 1 then 1 else 0 end) as with_problem,
        count(distinct case when is_tracked = 0 or is_late = 1 or is_returned = 1 or is_overdue = 1 then person_id end) as persons_affected
    from judged
    group by week_start, carrier

),

final as (

    select
        week_start,
        cast(carrier as {{ dbt.type_string() }}) as carrier,
        cast(shipments as {{ dbt.type_int() }}) as shipments,
        cast(untracked as {{ dbt.type_int() }}) as untracked,
        cast(cast(untracked as double) / shipments as double) as untracked_rate,
        cast(delivered as {{ dbt.type_int() }}) as delivered,
        cast(delivered_late as {{ dbt.type_int() }}) as delivered_late,
        cast(case when delivered > 0 then cast(delivered_late as double) / delivered end as double) as late_rate,
        cast(days_late_avg as double) as days_late_avg,
        cast(returned_to_sender as {{ dbt.type_int() }}) as returned_to_sender,
        cast(overdue as {{ dbt.type_int() }}) as overdue,
        cast(with_problem as {{ dbt.type_int() }}) as with_problem,
        cast(cast(with_problem as double) / shipments as double) as problem_rate,
        cast(persons_affected as {{ dbt.type_int() }}) as persons_affected
    from grouped

)

select * from final
