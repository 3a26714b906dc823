{#- What audience rules read: the profile with its scores (customer_360) and where the person stands
    in the journey now (the open stage spell). Rules name these columns; kizuna.audiences reads
    their types from the warehouse to check a rule before it runs. -#}

with

profiles as (

    select * from {{ ref('customer_360') }}

),

current_stages as (

    select person_id, stage, started_on, days_in_stage
    from {{ ref('int_stage_spells') }}
    where is_open

),

final as (

    select
        profiles.*,
        current_stages.stage as journey_stage,
        current_stages.started_on as journey_stage_since,
        current_stages.days_in_stage as journey_stage_days
    from profiles
    left join current_stages
        on profiles.person_id = current_stages.person_id

)

select * from final
