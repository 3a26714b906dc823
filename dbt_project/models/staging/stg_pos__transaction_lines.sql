with

source as (

    select * from {{ source('raw', 'pos_transactions') }}

),

renamed as (

    select
        {{ dbt.concat(["transaction_id", "'|'", dbt.cast('line_no', dbt.type_string())]) }} as transaction_line_id,
        transaction_id,
        line_no,
        store_id,
        loyalty_card_id,
        transacted_at,
        product_id,
        quantity,
        unit_price,
        amount,
        payment_method,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
