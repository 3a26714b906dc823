{#- The unified profile with its latest scores: every column of customer_profile, then per model its
    score, decile, the reasons behind it and the model version, and the best offer. Models are
    listed here by name (config/models.yml): a model added there gets its columns by adding it to
    `models` below. Persons a model does not score (churn is for customers) have nulls there. -#}
{%- set models = ['churn', 'purchase', 'lifetime_value'] -%}

with

profile as (

    select * from {{ ref('customer_profile') }}

),

scores as (

    select * from {{ source('predict', 'customer_scores') }}

),

best_offers as (

    select person_id, offer_id, score
    from {{ source('predict', 'offer_scores') }}
    where offer_rank = 1

),

final as (

    select
        profile.*,
        {%- for model in models %}
        {{ model }}.score as {{ model }}_score,
        {{ model }}.decile as {{ model }}_decile,
        concat_ws('; ', {{ model }}.reason_1, {{ model }}.reason_2, {{ model }}.reason_3) as {{ model }}_reasons,
        {{ model }}.model_version as {{ model }}_model_version,
        {%- endfor %}
        best_offers.offer_id as best_offer_id,
        best_offers.score as best_offer_score,
        coalesce({% for model in models %}{{ model }}.scored_as_of{% if not loop.last %}, {% endif %}{% endfor %}) as scores_as_of
    from profile
    {%- for model in models %}
    left join scores as {{ model }}
        on {{ model }}.person_id = profile.person_id and {{ model }}.model = '{{ model }}'
    {%- endfor %}
    left join best_offers on best_offers.person_id = profile.person_id

)

select * from final
