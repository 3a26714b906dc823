{#- Retention of first-purchase cohorts: of the persons whose first purchase (online order not
    cancelled, or store transaction) fell in a business month, the share who purchase in each
    later month. Months are counted on the calendar (year * 12 + month), so the count is the same
    on every engine. -#}

with

person_events as (

    select * from {{ ref('person_events') }}

),

purchases as (

    select
        person_id,
        cast({{ dbt.date_trunc('month', business_date('occurred_at')) }} as date) as purchase_month
    from person_events
    where occurred_at is not null
        and (
            (source = 'orders' and coalesce(event_name, '') <> 'cancelled')
            or source = 'pos_transactions'
        )

),

person_months as (

    select distinct
        person_id,
        purchase_month,
        extract(year from purchase_month) * 12 + extract(month from purchase_month) as month_index
    from purchases

),

firsts as (

    select
        person_id,
        min(month_index) as cohort_index
    from person_months
    group by person_id

),

cohorts as (

    select
        person_months.purchase_month as cohort_month,
        firsts.cohort_index,
        count(*) as cohort_persons
    from firsts
    inner join person_months
        on person_months.person_id = firsts.person_id
        and person_months.month_index = firsts.cohort_index
    group by person_months.purchase_month, firsts.cohort_index

),

calendar as (

    select distinct purchase_month as activity_month, month_index
    from person_months

),

observed as (

    select max({{ business_date('occurred_at') }}) as last_date
    from person_events

),

active as (

    select
        firsts.cohort_index,
        person_months.month_index,
        count(*) as active_persons
    from firsts
    inner join person_months
        on person_months.person_id = firsts.person_id
    group by firsts.cohort_index, person_months.month_index

),

final as (

    select
        cohorts.cohort_month,
        cast(calendar.month_index - cohorts.cohort_index as {{ dbt.type_int() }}) as months_since_first,
        calendar.activity_month,
        cast(cohorts.cohort_persons as {{ dbt.type_int() }}) as cohort_persons,
        cast(coalesce(active.active_persons, 0) as {{ dbt.type_int() }}) as active_persons,
        cast(cast(coalesce(active.active_persons, 0) as double) / cohorts.cohort_persons as double) as retention,
        cast(observed.last_date < cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'calendar.activity_month')) }} as date) as boolean) as is_partial_month
    from cohorts
    inner join calendar
        on calendar.month_index >= cohorts.cohort_index
    cross join observed
    left join active
        on active.cohort_index = cohorts.cohort_index
        and active.month_index = calendar.month_index

)

select * from final
