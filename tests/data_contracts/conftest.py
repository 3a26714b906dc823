"""Helpers shared by the data-contract tests: the three judges behind one calling convention.

A batch is a list of records (field name -> text or None) with a parallel list of parse errors.
Each judge returns one `RecordVerdict` per record (rule ids in contract order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import duckdb
import pandas as pd
import pytest

from data_contracts import Contract, load_contracts
from data_contracts.record import RecordVerdict, validate_record
from data_contracts.sql import ident, judged_select

Judge = Callable[[Contract, Sequence[dict], Sequence[str | None], datetime], list[RecordVerdict]]


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def batch_frame(
    contract: Contract, records: Sequence[dict], parse_errors: Sequence[str | None]
) -> pd.DataFrame:
    """The batch as text: one object column per field (None when absent or empty), `_parse_error`."""
    columns = {
        name: pd.Series([_text(r.get(name)) for r in records], dtype=object)
        for name in contract.field_names
    }
    columns["_parse_error"] = pd.Series(list(parse_errors), dtype=object)
    return pd.DataFrame(columns)


def sql_judge(contract, records, parse_errors, reference_time) -> list[RecordVerdict]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        names = [*contract.field_names, "_parse_error"]
        con.execute(
            "CREATE TABLE batch (_row INTEGER, "
            + ", ".join(f"{ident(n)} VARCHAR" for n in names)
            + ")"
        )
        frame = batch_frame(contract, records, parse_errors)
        frame.insert(0, "_row", range(len(frame)))
        con.register("batch_in", frame)
        con.execute(
            "INSERT INTO batch SELECT _row, "
            + ", ".join(f"CAST({ident(n)} AS VARCHAR)" for n in names)
            + " FROM batch_in"
        )
        rows = con.execute(
            f"SELECT _errors, _warnings FROM ({judged_select(contract, 'batch', reference_time)})"
            " ORDER BY _row"
        ).fetchall()
    finally:
        con.close()
    return [RecordVerdict(tuple(e), tuple(w)) for e, w in rows]


def record_judge(contract, records, parse_errors, reference_time) -> list[RecordVerdict]:
    return [
        validate_record(contract, r, reference_time, parse_error=p)
        for r, p in zip(records, parse_errors, strict=True)
    ]


def ge_judge(contract, records, parse_errors, reference_time) -> list[RecordVerdict]:
    from data_contracts.ge_suite import validate_frame

    frame = batch_frame(contract, records, parse_errors)
    return validate_frame(contract, frame, reference_time).row_verdicts()


JUDGES: dict[str, Judge] = {"sql": sql_judge, "record": record_judge, "ge": ge_judge}


@pytest.fixture(scope="session")
def contracts() -> dict[str, Contract]:
    return load_contracts()


@pytest.fixture(scope="session")
def judges() -> dict[str, Judge]:
    return JUDGES


@pytest.fixture(scope="session")
def make_batch() -> Callable[..., pd.DataFrame]:
    return batch_frame
