with

source as (

    select * from {{ source('raw', 'loyalty_members') }}

),

renamed as (

    select
        {{ dbt.concat(["loyalty_card_id", "'|'", timestamp_key('signed_up_at')]) }} as membership_id,
        loyalty_card_id,
        full_name,
        full_name_kana,
        birth_date,
        postcode,
        email,
        phone,
        store_id,
        signed_up_at,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
