{#- The KPI tree of config/kpi_tree.yml (dbt var kizuna__kpi_tree) for the kpi_* models.
    kizuna/understand/kpi_tree.py checks the file before every build with better messages; these
    macros check again what SQL depends on, so a build run by hand cannot paste a bad formula. -#}

{#- The base measures of int_kpi_measures_daily, the only names a formula may use (the model's
    YAML documents each; a fast test keeps the three lists equal). -#}
{% macro kpi_measure_names() -%}
    {{ return([
        'visitors', 'ad_reach', 'ad_clicks', 'product_viewers', 'cart_adders', 'checkout_starters',
        'payment_failures', 'online_buyers', 'buyers', 'new_buyers', 'repeat_buyers',
        'reactivated_buyers', 'orders', 'units', 'revenue', 'refunds', 'signups', 'loyalty_signups',
        'app_installs', 'email_deliveries', 'email_clicks', 'email_unsubscribes', 'tickets_opened',
        'promoters', 'passives', 'detractors', 'nps_responses', 'reviews', 'referrals',
    ]) }}
{%- endmacro %}

{#- With no kizuna__kpi_tree var, the KGI and the three factors it is the product of. -#}
{% macro kpi_default_tree() -%}
    {{ return({'nodes': [
        {'id': 'revenue', 'name': 'Revenue', 'level': 'kgi', 'stage': 'purchase', 'department': 'management',
         'formula': 'revenue', 'unit': 'JPY', 'decomposition': 'product'},
        {'id': 'buyers', 'name': 'Buyers', 'parent': 'revenue', 'level': 'kpi', 'stage': 'purchase',
         'department': 'sales', 'formula': 'buyers', 'unit': 'count'},
        {'id': 'orders_per_buyer', 'name': 'Orders per buyer', 'parent': 'revenue', 'level': 'kpi',
         'stage': 'purchase', 'department': 'sales', 'formula': 'orders / buyers', 'unit': 'ratio'},
        {'id': 'average_order_value', 'name': 'Average order value', 'parent': 'revenue', 'level': 'kpi',
         'stage': 'purchase', 'department': 'merchandising', 'formula': 'revenue / orders', 'unit': 'JPY'},
    ]}) }}
{%- endmacro %}

{% macro kpi_tree() -%}
    {%- set tree = var('kizuna__kpi_tree', none) or kpi_default_tree() -%}
    {%- if tree.get('nodes') is none -%}
        {{ exceptions.raise_compiler_error("config/kpi_tree.yml: kizuna__kpi_tree.nodes: missing") }}
    {%- endif -%}
    {{ return(tree) }}
{%- endmacro %}

{#- The nodes, each with an `id` and a `formula`; the parent of each, for its children. -#}
{% macro kpi_nodes() -%}
    {%- set nodes = kpi_tree()['nodes'] -%}
    {%- for node in nodes -%}
        {%- if not node.get('id') or not node.get('formula') -%}
            {{ exceptions.raise_compiler_error("config/kpi_tree.yml: kizuna__kpi_tree.nodes[" ~ loop.index0 ~ "]: needs an id and a formula") }}
        {%- endif -%}
        {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', node['id'] | string) -%}
            {{ exceptions.raise_compiler_error("config/kpi_tree.yml: node " ~ node['id'] ~ ": id must be lower_snake_case") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(nodes) }}
{%- endmacro %}

{#- A node's text field as a SQL string literal (or null). -#}
{% macro kpi_text(value) -%}
    {%- if value is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        cast('{{ value | string | replace("'", "''") }}' as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- A formula as a SQL expression over the measure columns of `relation_alias`, as a double. Every
    division's right operand (the next number, measure or parenthesized group, with its signs) is
    wrapped in nullif(..., 0): a period without the denominator has no value instead of an error
    (Spark's ANSI mode) or an infinity. -#}
{% macro kpi_formula_sql(formula, node_id, relation_alias) -%}
    {#- Whitespace (a folded YAML line holds newlines) becomes single spaces first. -#}
    {%- set text = (formula | string).split() | join(' ') -%}
    {%- set token_pattern = '[ ]*([A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:[.][0-9]+)?|[-+*/()])' -%}
    {%- if not modules.re.fullmatch('(' ~ token_pattern ~ ')+[ ]*', text) -%}
        {{ exceptions.raise_compiler_error("config/kpi_tree.yml: node " ~ node_id ~ ": formula " ~ text ~ " may hold only measure names, numbers and + - * / ( )") }}
    {%- endif -%}
    {%- set tokens = modules.re.findall(token_pattern, text) -%}
    {%- set measures = kpi_measure_names() -%}
    {#- closes[i]: how many nullif(...) end after token i -#}
    {%- set closes = {} -%}
    {%- for token in tokens -%}
        {%- if token == '/' -%}
            {%- set scan = namespace(i=loop.index0 + 1, depth=0, end=none) -%}
            {%- for step in tokens -%}
                {%- if scan.end is none and scan.i < tokens | length -%}
                    {%- set current = tokens[scan.i] -%}
                    {%- if current == '(' -%}
                        {%- set scan.depth = scan.depth + 1 -%}
                    {%- elif current == ')' -%}
                        {%- set scan.depth = scan.depth - 1 -%}
                        {%- if scan.depth == 0 -%}{%- set scan.end = scan.i -%}{%- endif -%}
                    {%- elif current in ['-', '+'] and scan.depth == 0 -%}
                        {#- a sign in front of the operand: keep scanning -#}
                    {%- elif scan.depth == 0 -%}
                        {%- set scan.end = scan.i -%}
                    {%- endif -%}
                    {%- set scan.i = scan.i + 1 -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if scan.end is none -%}
                {{ exceptions.raise_compiler_error("config/kpi_tree.yml: node " ~ node_id ~ ": formula " ~ text ~ " has a division without a right operand") }}
            {%- endif -%}
            {%- do closes.update({scan.end: closes.get(scan.end, 0) + 1}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set parts = [] -%}
    {%- for token in tokens -%}
        {%- if modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]*', token) -%}
            {%- if token not in measures -%}
                {{ exceptions.raise_compiler_error("config/kpi_tree.yml: node " ~ node_id ~ ": formula " ~ text ~ " uses " ~ token ~ ", which is no measure of int_kpi_measures_daily") }}
            {%- endif -%}
            {%- do parts.append('cast(' ~ relation_alias ~ '.' ~ token ~ ' as double)') -%}
        {%- elif modules.re.fullmatch('[0-9.]+', token) -%}
            {%- do parts.append('cast(' ~ token ~ ' as double)') -%}
        {%- elif token == '/' -%}
            {%- do parts.append('/ nullif(') -%}
        {%- else -%}
            {%- do parts.append(token) -%}
        {%- endif -%}
        {%- for _ in range(closes.get(loop.index0, 0)) -%}{%- do parts.append(', 0)') -%}{%- endfor -%}
    {%- endfor -%}
    ({{ parts | join(' ') }})
{%- endmacro %}
