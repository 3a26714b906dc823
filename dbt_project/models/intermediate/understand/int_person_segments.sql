{#- The value/lifecycle segment of every person: the first rule of var kizuna__segments
    (config/experience.yml) whose conditions the person's customer_profile row meets. A rule is
    {name, when: {column: {min, max} | {in: [...]}}}; a rule without `when` takes everyone left.
    Without the var: vip (monetary score 5), repeat (2+ orders), first_time (1 order), prospect. -#}
{%- set default_rules = [
    {'name': 'vip', 'when': {'monetary_score': {'min': 5}}},
    {'name': 'repeat', 'when': {'orders': {'min': 2}}},
    {'name': 'first_time', 'when': {'orders': {'min': 1}}},
    {'name': 'prospect'},
] -%}
{%- set rules = var('kizuna__segments', default_rules) -%}
{%- set numeric_columns = ['sessions', 'orders', 'revenue', 'average_order_value', 'recency_days',
    'recency_score', 'frequency_score', 'monetary_score', 'open_tickets', 'last_nps',
    'email_opens_90d', 'email_clicks_90d'] -%}
{%- set text_columns = ['favourite_category', 'gender', 'prefecture', 'channels_used', 'devices_used'] -%}
{%- set where = 'config/experience.yml: kizuna__segments' -%}
{%- if rules is string or rules is mapping or rules | length == 0 -%}
    {{ exceptions.raise_compiler_error(where ~ " must be a non-empty list of rules") }}
{%- endif -%}
{%- set conditions = [] -%}
{%- for rule in rules -%}
    {%- set at = where ~ "[" ~ loop.index0 ~ "]" -%}
    {%- set name = rule.get('name') if rule is mapping else none -%}
    {%- if name is not string or not modules.re.match('^[a-z][a-z0-9_]*$', name) -%}
        {{ exceptions.raise_compiler_error(at ~ ".name must be a lower-case identifier") }}
    {%- endif -%}
    {%- set tests = [] -%}
    {%- for column, bounds in (rule.get('when') or {}).items() -%}
        {%- if column in numeric_columns and bounds is mapping and bounds | length > 0 -%}
            {%- for bound, value in bounds.items() -%}
                {%- if bound not in ['min', 'max'] or value is not number or value is sameas true or value is sameas false -%}
                    {{ exceptions.raise_compiler_error(at ~ ".when." ~ column ~ "." ~ bound ~ " must be min or max with a number") }}
                {%- endif -%}
                {% do tests.append(column ~ (' >= ' if bound == 'min' else ' <= ') ~ value) %}
            {%- endfor -%}
        {%- elif column in text_columns and bounds is mapping and bounds.get('in') is iterable and bounds.get('in') is not string -%}
            {%- set quoted = [] -%}
            {%- for value in bounds['in'] -%}{% do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") %}{%- endfor -%}
            {% do tests.append(column ~ ' in (' ~ quoted | join(', ') ~ ')') %}
        {%- else -%}
            {{ exceptions.raise_compiler_error(at ~ ".when." ~ column ~ ": unknown column or condition") }}
        {%- endif -%}
    {%- endfor -%}
    {% do conditions.append((name, tests)) %}
{%- endfor -%}

with

customer_profile as (

    select * from {{ ref('customer_profile') }}

),

final as (

    select
        person_id,
        cast(case
            {%- for name, tests in conditions %}
            when {{ tests | join(' and ') if tests else 'true' }} then '{{ name }}'
            {%- endfor %}
            else 'other'
        end as {{ dbt.type_string() }}) as segment
    from customer_profile

)

select * from final
