with

source as (

    select * from {{ source('raw', 'orders') }}

),

renamed as (

    select
        {{ dbt.concat(["order_id", "'|'", dbt.cast('line_no', dbt.type_string())]) }} as order_line_id,
        order_id,
        line_no,
        user_id,
        anonymous_id,
        channel,
        ordered_at,
        product_id,
        quantity,
        unit_price,
        discount,
        currency,
        offer_id,
        status as order_status,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
