{#- The journey stage of every person on every business day, by the rules of config/stages.yml. -#}
{%- set config = stage_config() -%}
{%- set window = 'rows between unbounded preceding and current row' -%}
{%- if config['start'] not in ['window', 'first_seen'] -%}
    {{ exceptions.raise_compiler_error("config/stages.yml: kizuna__stages.start must be window or first_seen, not " ~ config['start']) }}
{%- endif -%}

with

person_events as (

    select * from {{ ref('person_events') }}
    where occurred_at is not null

),

signals as (

    select * from {{ ref('int_person_day_signals') }}

),

first_seen as (

    select
        person_id,
        min({{ business_date('occurred_at') }}) as first_seen_date
    from person_events
    group by person_id

),

activity_days as (

    select signal_date from signals where has_activity

),

as_of as (

    -- The as-of day is the latest day of anyone's own activity: marketing sent in the future
    -- (scheduled emails) or a contact record's dates say nothing about how far the data reaches.
    select
        {%- if config['as_of'] %}
        cast('{{ config["as_of"] }}' as date) as as_of_date,
        {%- else %}
        max(signal_date) as as_of_date,
        {%- endif %}
        min(signal_date) as first_activity_date
    from activity_days

),

bounds as (

    -- Stages start where the activity data starts (no signal can be seen before it), and at
    -- most history_days before the as-of day.
    select
        as_of_date,
        case
            when first_activity_date > {{ dbt.dateadd('day', 1 - config['history_days'] | int, 'as_of_date') }}
                and first_activity_date <= as_of_date
                then first_activity_date
            else cast({{ dbt.dateadd('day', 1 - config['history_days'] | int, 'as_of_date') }} as date)
        end as window_start
    from as_of
    where as_of_date is not null

),

spine as (

    {{ day_spine('window_start', 'as_of_date', 'bounds') }}

),

days as (

    select
        spine_date,
        row_number() over (order by spine_date) as day_number
    from spine

),

persons as (

    -- From the window's first day (start: window): before a person is first seen they had no
    -- signal, which the rules call awareness ("nothing at all yet"); or from the first seen day.
    select
        first_seen.person_id,
        first_seen.first_seen_date,
        case
            {%- if config['start'] == 'window' %}
            when true then bounds.window_start
            {%- endif %}
            when first_seen.first_seen_date < bounds.window_start then bounds.window_start
            else first_seen.first_seen_date
        end as start_date
    from first_seen
    cross join bounds
    where first_seen.first_seen_date <= bounds.as_of_date

),

person_days as (

    select
        persons.person_id,
        days.spine_date as stage_date,
        days.day_number,
        days.spine_date >= persons.first_seen_date as is_seen,
        case when signals.is_purchase_day then days.day_number end as purchase_day,
        case when signals.has_consideration then days.day_number end as consideration_day,
        case when signals.has_promoter then days.day_number end as promoter_day,
        case when signals.has_activity then days.day_number end as activity_day
    from persons
    inner join days
        on days.spine_date >= persons.start_date
    left join signals
        on signals.person_id = persons.person_id
        and signals.signal_date = days.spine_date

),

state as (

    select
        person_id,
        stage_date,
        day_number,
        is_seen,
        count(purchase_day) over (partition by person_id order by day_number {{ window }}) as purchase_days,
        min(purchase_day) over (partition by person_id order by day_number {{ window }}) as first_purchase_day,
        max(purchase_day) over (partition by person_id order by day_number {{ window }}) as last_purchase_day,
        max(consideration_day) over (partition by person_id order by day_number {{ window }}) as last_consideration_day,
        max(promoter_day) over (partition by person_id order by day_number {{ window }}) as last_promoter_day,
        max(activity_day) over (partition by person_id order by day_number {{ window }}) as last_activity_day
    from person_days

),

final as (

    select
        person_id,
        stage_date,
        cast({{ stage_case(config['rules']) }} as {{ dbt.type_string() }}) as stage,
        is_seen,
        cast(purchase_days as integer) as purchase_days,
        cast(day_number - last_purchase_day as integer) as days_since_purchase,
        cast(day_number - last_consideration_day as integer) as days_since_consideration,
        cast(day_number - last_promoter_day as integer) as days_since_promoter,
        cast(day_number - last_activity_day as integer) as days_since_activity
    from state

)

select * from final
