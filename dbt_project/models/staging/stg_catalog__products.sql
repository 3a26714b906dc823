with

source as (

    select * from {{ source('raw', 'products') }}

),

renamed as (

    select
        {{ dbt.concat(["product_id", "'|'", timestamp_key('updated_at')]) }} as product_version_id,
        product_id,
        name as product_name,
        category,
        subcategory,
        list_price,
        launched_on,
        updated_at,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
