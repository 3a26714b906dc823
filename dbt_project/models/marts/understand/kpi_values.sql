{#- Every node of the KPI tree (config/kpi_tree.yml) per period: the node's formula applied to the
    base measures summed over the period, so a ratio is a ratio of the period's sums. -#}
{%- set nodes = kpi_nodes() -%}
{%- set measures = kpi_measure_names() -%}
{%- set grains = ['day', 'week', 'month'] -%}

with

measures_daily as (

    select * from {{ ref('int_kpi_measures_daily') }}

),

bounds as (

    select
        min(measure_date) as first_date,
        max(measure_date) as last_date
    from measures_daily

),

periods_daily as (

    select
        measures_daily.*,
        {%- for grain in grains %}
        cast({{ dbt.date_trunc(grain, 'measure_date') }} as date) as {{ grain }}_start{{ "," if not loop.last }}
        {%- endfor %}
    from measures_daily

),

period_measures as (

    {% for grain in grains %}
    select
        '{{ grain }}' as grain,
        {{ grain }}_start as period_start,
        {%- if grain == 'day' %}
        {{ grain }}_start as period_end,
        {%- elif grain == 'week' %}
        cast({{ dbt.dateadd('day', 6, grain ~ '_start') }} as date) as period_end,
        {%- else %}
        cast({{ dbt.last_day(grain ~ '_start', 'month') }} as date) as period_end,
        {%- endif %}
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ "," if not loop.last }}
        {%- endfor %}
    from periods_daily
    group by {{ grain }}_start
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

node_values as (

    {% for node in nodes %}
    select
        '{{ node.id }}' as node_id,
        period_measures.grain,
        period_measures.period_start,
        period_measures.period_end,
        {{ kpi_formula_sql(node.formula, node.id, 'period_measures') }} as value
    from period_measures
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

nodes as (

    {% for node in nodes %}
    select
        '{{ node.id }}' as node_id,
        {{ kpi_text(node.get('name', node.id)) }} as node_name,
        {{ kpi_text(node.get('parent')) }} as parent_id,
        {{ kpi_text(node.get('level')) }} as node_level,
        {{ kpi_text(node.get('stage')) }} as stage,
        {{ kpi_text(node.get('department')) }} as department,
        {{ kpi_text(node.get('unit')) }} as unit,
        {{ kpi_text(node.formula) }} as formula
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

with_previous as (

    select
        node_values.*,
        -- Periods are contiguous (the daily measures have a row for every day), so the previous
        -- row is the previous period.
        lag(value) over (partition by node_id, grain order by period_start) as previous_value
    from node_values

),

final as (

    select
        nodes.node_id,
        nodes.node_name,
        nodes.parent_id,
        nodes.node_level,
        nodes.stage,
        nodes.department,
        nodes.unit,
        nodes.formula,
        cast(with_previous.grain as {{ dbt.type_string() }}) as grain,
        with_previous.period_start,
        with_previous.period_end,
        (with_previous.period_start >= bounds.first_date and with_previous.period_end <= bounds.last_date) as is_complete,
        cast(with_previous.value as double) as value,
        cast(with_previous.previous_value as double) as previous_value,
        cast(with_previous.value - with_previous.previous_value as double) as change,
        cast(
            (with_previous.value - with_previous.previous_value)
            / nullif(abs(with_previous.previous_value), 0)
            as double
        ) as relative_change
    from with_previous
    inner join nodes
        on nodes.node_id = with_previous.node_id
    cross join bounds

)

select * from final
