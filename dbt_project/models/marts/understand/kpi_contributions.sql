{#- How much of a node's change each child explains, for the nodes config/kpi_tree.yml declares a
    decomposition of: `sum` (the node is the sum of its children: a child contributes its change)
    or `product` (the node is the product of its children: LMDI-I log-change shares,
    L(P1, P0) * ln(x1 / x0) with L the logarithmic mean, which add up to the node's change exactly).
    Contributions chain down from the KGI through decomposed nodes, so every factor on such a path
    also gets its share of the KGI's change. -#}
{%- set nodes = kpi_nodes() -%}
{%- set by_id = {} -%}
{%- for node in nodes -%}{%- do by_id.update({node.id: node}) -%}{%- endfor -%}
{%- set edges = [] -%}
{%- for node in nodes if node.get('parent') and by_id.get(node.parent, {}).get('decomposition') in ['sum', 'product'] -%}
    {%- do edges.append({'parent': node.parent, 'child': node.id, 'decomposition': by_id[node.parent].decomposition}) -%}
{%- endfor -%}
{%- set roots = nodes | rejectattr('parent') | map(attribute='id') | list -%}
{#- The edges on a path of decompositions from the KGI, by depth (1: the KGI's children). -#}
{%- set kgi_levels = [] -%}
{%- set reached = namespace(ids=roots) -%}
{%- for _ in edges -%}
    {%- set level = edges | selectattr('parent', 'in', reached.ids) | list -%}
    {%- if level -%}
        {%- do kgi_levels.append(level) -%}
        {%- set reached.ids = level | map(attribute='child') | list -%}
    {%- else -%}
        {%- set reached.ids = [] -%}
    {%- endif -%}
{%- endfor -%}

with

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

edges as (

    {% for edge in edges %}
    select
        cast('{{ edge.parent }}' as {{ dbt.type_string() }}) as parent_id,
        cast('{{ edge.child }}' as {{ dbt.type_string() }}) as child_id,
        cast('{{ edge.decomposition }}' as {{ dbt.type_string() }}) as decomposition
    {% if not loop.last %}union all{% endif %}
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as parent_id,
        cast(null as {{ dbt.type_string() }}) as child_id,
        cast(null as {{ dbt.type_string() }}) as decomposition
    from kpi_values
    where 1 = 0
    {% endfor %}

),

pairs as (

    select
        edges.parent_id,
        edges.child_id,
        edges.decomposition,
        parent.grain,
        parent.period_start,
        parent.value as parent_value,
        parent.previous_value as parent_previous_value,
        parent.change as parent_change,
        child.value as child_value,
        child.previous_value as child_previous_value,
        child.change as child_change
    from edges
    inner join kpi_values as parent
        on parent.node_id = edges.parent_id
    inner join kpi_values as child
        on child.node_id = edges.child_id
        and child.grain = parent.grain
        and child.period_start = parent.period_start
    -- The first period has nothing to compare with.
    where parent.previous_value is not null
        and parent.value is not null

),

weighted as (

    select
        pairs.*,
        -- The logarithmic mean of the parent's two values (LMDI-I needs both positive).
        case
            when decomposition = 'product' and parent_value > 0 and parent_previous_value > 0
                then case
                    when parent_value = parent_previous_value then parent_value
                    else (parent_value - parent_previous_value)
                        / nullif(ln(parent_value) - ln(parent_previous_value), 0)
                end
        end as lmdi_weight
    from pairs

),

contributions as (

    select
        weighted.*,
        case
            when decomposition = 'sum' then child_change
            when child_value > 0 and child_previous_value > 0
                then lmdi_weight * (ln(child_value) - ln(child_previous_value))
        end as contribution
    from weighted

),

shares as (

    select
        contributions.*,
        contribution / nullif(parent_change, 0) as share_of_change
    from contributions

),

{% for level in kgi_levels %}
kgi_{{ loop.index }} as (

    select
        shares.grain,
        shares.period_start,
        shares.parent_id,
        shares.child_id,
        {%- if loop.first %}
        shares.contribution as contribution_to_kgi
        {%- else %}
        shares.share_of_change * kgi_{{ loop.index - 1 }}.contribution_to_kgi as contribution_to_kgi
        {%- endif %}
    from shares
    {%- if not loop.first %}
    inner join kgi_{{ loop.index - 1 }}
        on kgi_{{ loop.index - 1 }}.child_id = shares.parent_id
        and kgi_{{ loop.index - 1 }}.grain = shares.grain
        and kgi_{{ loop.index - 1 }}.period_start = shares.period_start
    {%- endif %}
    where shares.parent_id in ({% for edge in level %}'{{ edge.parent }}'{{ ", " if not loop.last }}{% endfor %})

),

{% endfor %}
to_kgi as (

    {% for level in kgi_levels %}
    select * from kgi_{{ loop.index }}
    {% if not loop.last %}union all{% endif %}
    {% else %}
    select
        grain,
        period_start,
        parent_id,
        child_id,
        cast(null as double) as contribution_to_kgi
    from shares
    where 1 = 0
    {% endfor %}

),

final as (

    select
        shares.grain,
        shares.period_start,
        shares.parent_id,
        shares.child_id,
        shares.decomposition,
        cast(shares.parent_value as double) as parent_value,
        cast(shares.parent_previous_value as double) as parent_previous_value,
        cast(shares.parent_change as double) as parent_change,
        cast(shares.child_value as double) as child_value,
        cast(shares.child_previous_value as double) as child_previous_value,
        cast(shares.child_change as double) as child_change,
        -- Rounded to a millionth so that the same inputs give the same figures on every engine.
        cast(round(shares.contribution, 6) as double) as contribution,
        cast(round(shares.share_of_change, 6) as double) as share_of_change,
        cast(round(to_kgi.contribution_to_kgi, 6) as double) as contribution_to_kgi,
        cast(row_number() over (
            partition by shares.grain, shares.period_start, shares.parent_id
            order by abs(shares.contribution) desc nulls last, shares.child_id
        ) as bigint) as contribution_rank
    from shares
    left join to_kgi
        on to_kgi.grain = shares.grain
        and to_kgi.period_start = shares.period_start
        and to_kgi.parent_id = shares.parent_id
        and to_kgi.child_id = shares.child_id

)

select * from final
