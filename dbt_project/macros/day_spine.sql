{#- One row per day (column `spine_date`, a date) from `start_date` to `end_date` inclusive: SQL
    date expressions, which may read columns of a single-row relation `from_relation`. DuckDB
    expands a range; Spark explodes a sequence; elsewhere, days are numbered by crossing digit
    tables (up to 100,000 days). -#}
{% macro day_spine(start_date, end_date, from_relation) -%}
    {{ return(adapter.dispatch('day_spine', 'kizuna')(start_date, end_date, from_relation)) }}
{%- endmacro %}

{% macro duckdb__day_spine(start_date, end_date, from_relation) -%}
    select cast(unnest(generate_series(cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval 1 day)) as date) as spine_date
    from {{ from_relation }}
{%- endmacro %}

{% macro spark__day_spine(start_date, end_date, from_relation) -%}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as spine_date
    from {{ from_relation }}
{%- endmacro %}

{% macro default__day_spine(start_date, end_date, from_relation) -%}
    {%- set digits = "(select 0 as d union all select 1 union all select 2 union all select 3 union all select 4 union all select 5 union all select 6 union all select 7 union all select 8 union all select 9)" -%}
    select cast({{ dbt.dateadd('day', 'numbers.n', start_date) }} as date) as spine_date
    from {{ from_relation }}
    cross join (
        select d1.d + 10 * d2.d + 100 * d3.d + 1000 * d4.d + 10000 * d5.d as n
        from {{ digits }} as d1
        cross join {{ digits }} as d2
        cross join {{ digits }} as d3
        cross join {{ digits }} as d4
        cross join {{ digits }} as d5
    ) as numbers
    where numbers.n <= {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}
