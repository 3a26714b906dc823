{#- NPS (share of promoters minus share of detractors, x100) overall and by each dimension an
    analyst slices it by. -#}
{%- set dimensions = ['segment', 'stage', 'touchpoint', 'language'] -%}

with

responses as (

    select * from {{ ref('nps_responses') }}

),

sliced as (

    select 'overall' as dimension, 'all' as dimension_value, nps_class from responses
    {% for dimension in dimensions %}
    union all
    select '{{ dimension }}', coalesce({{ dimension }}, 'unknown'), nps_class from responses
    {% endfor %}

),

counted as (

    select
        dimension,
        dimension_value,
        count(*) as responses,
        sum(case when nps_class = 'promoter' then 1 else 0 end) as promoters,
        sum(case when nps_class = 'passive' then 1 else 0 end) as passives,
        sum(case when nps_class = 'detractor' then 1 else 0 end) as detractors
    from sliced
    group by dimension, dimension_value

),

final as (

    select
        dimension,
        dimension_value,
        cast(responses as integer) as responses,
        cast(promoters as integer) as promoters,
        cast(passives as integer) as passives,
        cast(detractors as integer) as detractors,
        -- A double on every engine (Spark keeps 100.0 * ... / ... a decimal).
        cast(100 * (promoters - detractors) as double) / responses as nps
    from counted

)

select * from final
