{#- The identity map as analysts read it: one row per identifier with its person. -#}
with

identity_map as (

    select * from {{ source('identity', 'identity_map') }}

),

final as (

    select
        cast(namespace as {{ dbt.type_string() }}) as namespace,
        cast(value as {{ dbt.type_string() }}) as value,
        cast(value_hash as {{ dbt.type_string() }}) as value_hash,
        cast(person_id as {{ dbt.type_string() }}) as person_id,
        cast(first_seen as {{ dbt.type_timestamp() }}) as first_seen,
        cast(last_seen as {{ dbt.type_timestamp() }}) as last_seen,
        cast(coalesce(is_shared, false) as {{ dbt.type_boolean() }}) as is_shared,
        cast(flag_reason as {{ dbt.type_string() }}) as flag_reason

    from identity_map

)

select * from final
