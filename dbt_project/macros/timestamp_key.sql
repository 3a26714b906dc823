{#- A UTC timestamp as text inside a record key (e.g. crm_id|updated_at), the same on every engine:
    DuckDB's rendering of a TIMESTAMPTZ in UTC, '2026-05-01 09:00:00+00', with the fraction of a
    second trimmed of trailing zeros ('...:00.12+00'). A plain cast to string differs by engine
    (Spark writes no '+00'), and record ids must not depend on where the project ran.
    Both profiles set the session time zone to UTC. -#}
{% macro timestamp_key(column) -%}
    {{ return(adapter.dispatch('timestamp_key', 'kizuna')(column)) }}
{%- endmacro %}

{% macro default__timestamp_key(column) -%}
    cast({{ column }} as {{ dbt.type_string() }})
{%- endmacro %}

{% macro spark__timestamp_key(column) -%}
    concat(
        date_format({{ column }}, 'yyyy-MM-dd HH:mm:ss'),
        case
            when pmod(unix_micros({{ column }}), 1000000) > 0
                then concat('.', regexp_replace(lpad(cast(pmod(unix_micros({{ column }}), 1000000) as string), 6, '0'), '0+$', ''))
            else ''
        end,
        '+00'
    )
{%- endmacro %}
