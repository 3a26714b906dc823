with

source as (

    select * from {{ source('raw', 'refunds') }}

),

renamed as (

    select
        refund_id,
        order_id,
        line_no,
        kind as refund_kind,
        amount,
        reason,
        refunded_at,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
