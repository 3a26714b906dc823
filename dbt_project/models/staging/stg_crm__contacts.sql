with

source as (

    select * from {{ source('raw', 'crm_contacts') }}

),

renamed as (

    select
        {{ dbt.concat(["crm_id", "'|'", timestamp_key('updated_at')]) }} as contact_version_id,
        crm_id,
        last_name,
        first_name,
        last_name_kana,
        first_name_kana,
        email,
        phone,
        birth_date,
        gender,
        postcode,
        prefecture,
        loyalty_card_id,
        created_at,
        updated_at,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
