{#- What each source record says about a person: the input of probabilistic matching (Splink) and
    of survivorship. The loyalty form takes one free-text name, written in kanji, katakana or
    romaji: it is sorted into the column of its script. -#}
{%- set katakana = '^[\\x{30A0}-\\x{30FF}\\x{3000}\\x{FF65}-\\x{FF9F} ]+$' -%}
{%- set romaji = "^[A-Za-z][A-Za-z .''-]*$" -%}

with

crm_contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

loyalty_members as (

    select * from {{ ref('stg_loyalty__members') }}

),

crm_attributes as (

    select
        'crm_contacts' as source,
        contact_version_id as record_id,
        crm_id,
        loyalty_card_id,
        {{ dbt.concat(["last_name", "' '", "first_name"]) }} as full_name,
        case
            when not {{ matches_regex(dbt.concat(["last_name", "first_name"]), romaji) }}
                then {{ dbt.concat(["last_name", "' '", "first_name"]) }}
        end as full_name_kanji,
        {{ dbt.concat(["last_name_kana", "' '", "first_name_kana"]) }} as full_name_kana,
        case
            when {{ matches_regex(dbt.concat(["last_name", "first_name"]), romaji) }}
                then {{ dbt.concat(["last_name", "' '", "first_name"]) }}
        end as full_name_romaji,
        birth_date,
        postcode,
        gender,
        prefecture,
        email as email_raw,
        phone as phone_raw,
        updated_at

    from crm_contacts

),

loyalty_attributes as (

    select
        'loyalty_members' as source,
        membership_id as record_id,
        cast(null as {{ dbt.type_string() }}) as crm_id,
        loyalty_card_id,
        full_name,
        case
            when not {{ matches_regex('full_name', katakana) }}
                and not {{ matches_regex('full_name', romaji) }}
                then full_name
        end as full_name_kanji,
        coalesce(
            full_name_kana,
            case when {{ matches_regex('full_name', katakana) }} then full_name end
        ) as full_name_kana,
        case when {{ matches_regex('full_name', romaji) }} then full_name end as full_name_romaji,
        birth_date,
        postcode,
        cast(null as {{ dbt.type_string() }}) as gender,
        cast(null as {{ dbt.type_string() }}) as prefecture,
        email as email_raw,
        phone as phone_raw,
        signed_up_at as updated_at

    from loyalty_members

),

final as (

    select * from crm_attributes
    union all
    select * from loyalty_attributes

)

select * from final
