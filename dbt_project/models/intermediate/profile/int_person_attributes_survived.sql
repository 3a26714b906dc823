{#- One value per person and attribute, chosen by the survivorship rules of config/profile.yml
    (macros/profile_rules.sql): every record's non-null value is a candidate, ranked by the rule,
    and the first one survives. Ranks always end on the value itself, so the choice is deterministic. -#}
{%- set record_sources = ['crm_contacts', 'loyalty_members'] -%}
{%- set attributes = ['full_name_kanji', 'full_name_kana', 'full_name_romaji', 'birth_date', 'gender', 'postcode', 'prefecture'] -%}
{%- set identifiers = ['email', 'phone'] -%}

with

person_attributes as (

    select * from {{ ref('int_person_attributes') }}

),

record_persons as (

    select * from {{ source('identity', 'record_persons') }}

),

identity_graph as (

    select * from {{ ref('identity_graph') }}

),

candidates as (

    {% for attribute in attributes %}
    {%- set rule = survivorship_rule(attribute, record_sources) %}
    select
        record_persons.person_id,
        '{{ attribute }}' as attribute,
        cast(person_attributes.{{ attribute }} as {{ dbt.type_string() }}) as value,
        row_number() over (
            partition by record_persons.person_id
            order by
                {%- if rule.rule == 'source_priority' %}
                case person_attributes.source
                    {%- for source in rule.sources %} when '{{ source }}' then {{ loop.index }}{% endfor %}
                end,
                person_attributes.updated_at desc,
                {%- else %}
                person_attributes.updated_at desc,
                case person_attributes.source
                    {%- for source in rule.sources %} when '{{ source }}' then {{ loop.index }}{% endfor %}
                end,
                {%- endif %}
                cast(person_attributes.{{ attribute }} as {{ dbt.type_string() }})
        ) as candidate_rank
    from person_attributes
    inner join record_persons
        on record_persons.source = person_attributes.source
        and record_persons.record_id = person_attributes.record_id
    where person_attributes.{{ attribute }} is not null
        and person_attributes.source in ('{{ rule.sources | join("', '") }}')
    union all
    {% endfor %}

    {%- for identifier in identifiers %}
    {%- set rule = survivorship_rule(identifier, []) %}
    {%- if rule.rule != 'most_recent' %}
        {{ exceptions.raise_compiler_error("config/profile.yml: kizuna__survivorship." ~ identifier ~ ".rule: only most_recent (the identifier last seen)") }}
    {%- endif %}
    -- Shared identifiers (an info@ address) belong to nobody: never a person's contact.
    select
        person_id,
        '{{ identifier }}' as attribute,
        value,
        row_number() over (partition by person_id order by last_seen desc, value) as candidate_rank
    from identity_graph
    where namespace = '{{ identifier }}'
        and not is_shared
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        person_id,
        {%- for attribute in attributes + identifiers %}
        {%- set type = dbt.type_string() if attribute != 'birth_date' else 'date' %}
        cast(max(case when attribute = '{{ attribute }}' then value end) as {{ type }}) as {{ attribute }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from candidates
    where candidate_rank = 1
    group by person_id

)

select * from final
