"""The predict schema of the warehouse: every table written whole, in one transaction."""

from __future__ import annotations

import duckdb
import pandas as pd

from kizuna.warehouse import transaction

SCHEMA = "predict"


def write_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Replace predict.<table> with `frame`; its row count."""
    with transaction(con):
        con.execute(f"create schema if not exists {SCHEMA}")
        con.register("_predict_rows", frame)
        con.execute(f"create or replace table {SCHEMA}.{table} as select * from _predict_rows")
        con.unregister("_predict_rows")
    return len(frame)


def read_table(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    return con.sql(f"select * from {SCHEMA}.{table}").df()


def read_examples(con: duckdb.DuckDBPyConnection, model: str) -> pd.DataFrame:
    """One model's rows of predict.training_examples (none when the table or the model has none)."""
    if not con.sql(f"select 1 from information_schema.tables where table_schema = '{SCHEMA}' "
                   "and table_name = 'training_examples'").fetchall():
        return pd.DataFrame(columns=["model", "split", "label"])
    return con.execute(f"select * from {SCHEMA}.training_examples where model = $model", {"model": model}).df()
