with

source as (

    select * from {{ source('raw', 'shipments') }}

),

renamed as (

    select
        {{ dbt.concat(["shipment_id", "'|'", "status"]) }} as shipment_update_id,
        shipment_id,
        order_id,
        carrier,
        tracking_number,
        status as shipment_status,
        status_at,
        promised_date,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
