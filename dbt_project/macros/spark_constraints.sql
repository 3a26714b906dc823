{#- A contract's constraints on Spark tables that are not Delta. dbt-spark adds them with
    `alter table ... change column ... set not null`, which only Delta tables accept, and it does so
    whenever `file_format` is unset (as here: the tables are Spark's default source, Parquet), so
    every contracted model failed on Spark. DuckDB enforces a `not_null` constraint as the table is
    written; here the new table is checked instead, and dropped with an error when a not_null column
    holds a null: a model breaking its contract fails on both engines. Delta tables keep dbt-spark's
    behaviour; other constraint types are not enforced on other tables (a warning, as dbt-spark's). -#}
{% macro spark__persist_constraints(relation, model) %}
  {%- set contract_config = config.get('contract') -%}
  {%- if contract_config.enforced and config.get('file_format') == 'delta' -%}
    {% do alter_table_add_constraints(relation, model.constraints) %}
    {% do alter_column_set_constraints(relation, model.columns) %}
  {%- elif contract_config.enforced -%}
    {% do kizuna.check_not_null_constraints(relation, model) %}
  {%- endif -%}
{% endmacro %}

{% macro check_not_null_constraints(relation, model) %}
  {%- set columns = [] -%}
  {%- for constraint in model.constraints -%}
    {% do exceptions.warn('Constraint ' ~ constraint.type ~ ' of ' ~ relation ~ ' is not enforced on a Spark table that is not Delta.') %}
  {%- endfor -%}
  {%- for column_name, column in model.columns.items() -%}
    {%- for constraint in column.constraints -%}
      {%- if constraint.type == 'not_null' -%}
        {%- do columns.append(column_name) -%}
      {%- else -%}
        {% do exceptions.warn('Constraint ' ~ constraint.type ~ ' of ' ~ relation ~ '.' ~ column_name ~ ' is not enforced on a Spark table that is not Delta.') %}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if columns -%}
    {%- set query -%}
      select
        {%- for column_name in columns %}
        sum(case when {{ adapter.quote(column_name) }} is null then 1 else 0 end) as {{ adapter.quote(column_name) }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
      from {{ relation }}
    {%- endset -%}
    {%- set counts = run_query(query).rows[0] -%}
    {%- set violated = [] -%}
    {%- for column_name in columns -%}
      {%- if counts[loop.index0] -%}
        {%- do violated.append(column_name ~ ' (' ~ counts[loop.index0] ~ ' nulls)') -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if violated -%}
      {% do adapter.drop_relation(relation) %}
      {{ exceptions.raise_compiler_error('Contract of ' ~ relation ~ ' violated: not_null columns hold nulls: ' ~ violated | join(', ')) }}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}
