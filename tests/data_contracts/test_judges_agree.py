"""The three judges of a contract agree: DuckDB SQL predicates, the record validator, GE.

1. Shared cases (cases/*.yml): every judge gives exactly the expected rule ids, in contract order.
2. Random batches: for every shipped contract, seeded random records mixing good and broken texts;
   the three judges give identical per-row verdicts (for GE: each rule's unexpected rows are the
   rows the SQL says break it).
3. Typed values: DuckDB's typed value, the record validator's and the GE shadow column's agree text
   by text on a pool of tricky texts.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from data_contracts import Contract, Field, contract_rules, load_contracts
from data_contracts.ge_suite import shadow_column, typed_frame
from data_contracts.record import RecordVerdict, is_of_type, typed_value
from data_contracts.sql import typed_sql

CASES_DIR = Path(__file__).parent / "cases"
JUDGE_NAMES = ("sql", "record", "ge")


def _load_case_files() -> dict[str, dict]:
    files = {}
    for path in sorted(CASES_DIR.glob("*.yml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec["reference_time"] = datetime.fromisoformat(spec["reference_time"])
        records, parse_errors = [], []
        for case in spec["cases"]:
            record = dict(case["record"]) if "record" in case else dict(spec.get("base") or {})
            for key, value in (case.get("set") or {}).items():
                record[key] = value
            record = {k: v for k, v in record.items() if v is not None}
            for key, value in record.items():
                assert isinstance(value, str), f"{path.name}: {case['name']}: {key} is not text"
            records.append(record)
            parse_errors.append(case.get("parse_error"))
        spec["records"], spec["parse_errors"] = records, parse_errors
        files[path.stem] = spec
    return files


CASE_FILES = _load_case_files()
CASE_IDS = [
    (name, i) for name, spec in CASE_FILES.items() for i in range(len(spec["cases"]))
]


def test_case_files_cover_the_contracts_that_matter():
    needed = {
        "events", "orders", "crm_contacts", "survey_responses", "support_tickets",
        "pos_transactions", "refunds", "consent_events",
    }
    assert needed <= set(CASE_FILES)
    contracts = load_contracts()
    for name, spec in CASE_FILES.items():
        assert spec["contract"] == name
        known = {r.id for r in contract_rules(contracts[name])}
        for case in spec["cases"]:
            for rid in [*case.get("errors", []), *case.get("warnings", [])]:
                assert rid in known, f"{name}: {case['name']}: unknown rule id {rid}"
            for key in case.get("set") or {}:
                assert key in contracts[name].field_names, f"{name}: {case['name']}: {key}"


@pytest.fixture(scope="module")
def case_verdicts(contracts, judges):
    @cache
    def run(contract_name: str) -> dict[str, list[RecordVerdict]]:
        spec = CASE_FILES[contract_name]
        contract = contracts[contract_name]
        return {
            judge: judges[judge](
                contract, spec["records"], spec["parse_errors"], spec["reference_time"]
            )
            for judge in JUDGE_NAMES
        }

    return run


def _in_contract_order(ids, order):
    return list(ids) == sorted(ids, key=order.index)


@pytest.mark.parametrize(
    ("contract_name", "index"),
    CASE_IDS,
    ids=[f"{n}: {CASE_FILES[n]['cases'][i]['name']}" for n, i in CASE_IDS],
)
def test_shared_case(contracts, case_verdicts, contract_name, index):
    case = CASE_FILES[contract_name]["cases"][index]
    order = [r.id for r in contract_rules(contracts[contract_name])]
    expected = (sorted(case.get("errors", [])), sorted(case.get("warnings", [])))
    verdicts = case_verdicts(contract_name)
    for judge in JUDGE_NAMES:
        got = verdicts[judge][index]
        assert (sorted(got.errors), sorted(got.warnings)) == expected, judge
        assert _in_contract_order(got.errors, order), judge
        assert _in_contract_order(got.warnings, order), judge
        assert got.ok == (not expected[0])


# --- random batches -------------------------------------------------------------------------

GENERIC_TEXTS = [
    "x", "abc", " ", "  padded  ", "日本語テキスト", "a\nb", "O'Brien", '"quoted"', "\\", "😀",
    "track", "NULL", "null", "0", "-1", "true", "2026-05-01", "C1234567", "L0123456789",
]
TYPE_TEXTS = {
    "integer": [
        "0", "1", "2", "5", "9", "10", "11", "99", "100", "101", "200", "201", "999", "1000",
        "-1", "-0", "+0", "+5", "00012", "1e3", ".5", "1.0", "5.0", " 12", "12 ", "1_000", "NaN",
        "Infinity", "999999999999999999", "-999999999999999999", "1000000000000000000", "abc",
        "１２", "0x10", "",
    ],
    "number": [
        "0", "-0", "0.0", "+0", "1", "1e3", ".5", "+.5", "-.5", "1.", "-12.5", "12.34", "1E+05",
        "4980", "-4980", "1e-300", "-1e-300", "1e-320", "-1e-320", "1e308", "-1e308", "1e309",
        "1e999", "-1e999", "NaN", "Infinity", "-Infinity", "inf", " 12", "12 ", "1_000", "0x10",
        "1,5", "１２", "1e", "e3", ".", "-", "+", "1.5.2", "",
    ],
    "boolean": ["true", "false", "TRUE", "False", "tRuE", "t", "1", "yes", "truee", " true"],
    "date": [
        "2026-05-01", "2026-05-02", "2026-05-03", "2026-02-30", "2024-02-29", "1900-02-29",
        "1899-12-31", "1900-01-01", "1999-12-31", "2000-01-01", "2014-12-31", "2015-01-01",
        "0000-01-01", "0001-01-01", "9999-12-31", "2026-5-1", "20260501", "2026/05/01",
        "2026-05-01T00:00:00", "2026-13-01", "2026-00-10", " 2026-05-01", "today",
    ],
    "timestamp": [
        "2026-05-01T10:00:00Z", "2026-05-01 10:00:00+09:00", "2026-05-01T10:00:00.123456+0900",
        "2026-05-01", "2026-05-01T10:00:00+09", "2026-05-01T10:00", "2026-05-01 10:00",
        "2026-05-01T10:00:00-03:30", "2026-05-01T10:00:00.5Z", "2026-05-01T10:00:00-00",
        "2026-05-01T23:59:59.999999+23:59", "2026-05-04T12:00:00Z", "2026-05-04T21:00:00+09:00",
        "2026-05-04T12:00:00.000001Z", "2026-05-04T12:00:00.000001", "2026-05-05T12:00:00Z",
        "2026-05-03", "2026-05-04", "2026-05-05", "2014-12-31T23:59:59.999999Z",
        "2015-01-01T00:00:00Z", "2015-01-01T08:59:59+09:00", "2015-01-01 09:00:00+09:00",
        "1999-12-31T23:59:59Z", "2000-01-01", "2026-02-30T10:00:00Z", "2026-02-30",
        "2026-05-01T24:00:00Z", "2026-05-01T24:00", "2026-05-01T10:60:00", "2026-05-01T10:00:60",
        "2026-05-01T10:00+09:00", "2026-05-01T10:00Z", "2026-05-01Z", "2026-05-01+09:00",
        "2026-05-01T10:00:00.1234567Z", "2026-05-01T10:00:00+24:00", "2026-05-01T10:00:00+99",
        "2026-05-01T10:00:00+09:60", "2026-05-01T10:00:00z", "2026-05-01t10:00:00",
        "2026-05-01T10:00:00.Z", "0000-01-01", "0001-01-01", "0001-01-01T00:00:00+01:00",
        "0001-01-01T01:00:00+01:00", "9999-12-31T23:59:59.999999Z", "9999-12-31T23:00:00-05:00",
        "20260501T100000Z", "yesterday", "1714557600",
    ],
    "json": [
        '{"a":1}', "[1,2]", "1", '"x"', "null", "true", ' {"a": 1} ', '{"a":1}\n', "-0", "1e5",
        "1e999", '{"a":1,"a":2}', '{"fruit":"banana, ]"}', '{"k":"\\"nan"}', '{"inf":1}',
        '{"a":"\\ud83d\\ude00"}', '{"a":"\\u0000"}', "[1,]", '{"a":1,}', "[1,\n]", "{\"a\": [1,],}",
        "NaN", "nan", "Infinity", "-Infinity", "[NaN]", '{"a":-inf}', "{a:1}", "{'a':1}", "01",
        "1.", ".5", "+1", '{"a":"\\ud800"}', '{"a":"\\x41"}', '{"a":1}x', "[1 2]", "[", "tru",
        "/*c*/1", '{"a":"é"}', "\t[]\r", "[" * 40 + "]" * 40,
    ],
}
# pattern -> (texts that match, texts that do not)
PATTERN_EXAMPLES = {
    "C[0-9]{7}": (["C0000001", "C1234567"], ["C123456", "C12345678", "c1234567", "C1234567\n"]),
    "L[0-9]{10}": (["L0123456789"], ["L012345678", "L01234567890", "l0123456789"]),
    "O[0-9]{9}": (["O000000001"], ["O12345678", "O1234567890", "0000000001"]),
    "P[0-9]{5}": (["P00001", "P12345"], ["P1234", "p00001", "P0000１"]),
    "S[0-9]{3}": (["S001"], ["S01", "S0001"]),
    "T[0-9]{8}": (["T00000001"], ["T1234567"]),
    "OF[0-9]{3}": (["OF001"], ["OF01", "of001"]),
    "[0-9]{3}-?[0-9]{4}": (["150-0001", "1500001"], ["150-00012", "150--0001", "１５０-０００１"]),
}
# Texts that break no rule of any shipped contract (bounds included).
GOOD_TEXTS = {
    "string": ["x", "日本語テキスト"],
    "integer": ["1", "2", "5"],
    "number": ["0", "-0", "0.0"],
    "boolean": ["true", "False"],
    "date": ["2020-01-01", "2026-05-01"],
    "timestamp": ["2026-05-01T10:00:00Z", "2026-05-01 10:00:00+09:00"],
    "json": ['{"a": 1}', "[]"],
}


def _good_text(f: Field, rng: random.Random, required_when_values: dict[str, list[str]]):
    if f.name in required_when_values:
        return rng.choice(required_when_values[f.name])
    if f.enum is not None:
        return rng.choice(f.enum)
    if f.pattern:
        return rng.choice(PATTERN_EXAMPLES[f.pattern][0])
    return rng.choice(GOOD_TEXTS[f.type])


def _random_text(f: Field, rng: random.Random, required_when_values: dict[str, list[str]]):
    roll = rng.random()
    if roll < 0.12:
        return None
    if f.name in required_when_values and roll < 0.7:
        return rng.choice(required_when_values[f.name])
    if f.enum is not None and roll < 0.75:
        extras = [f.enum[0].upper(), f.enum[0] + " ", "unknown", f.enum[-1]]
        return rng.choice([*f.enum, *extras])
    if f.pattern and roll < 0.85:
        return rng.choice([t for texts in PATTERN_EXAMPLES[f.pattern] for t in texts])
    pool = TYPE_TEXTS.get(f.type, GENERIC_TEXTS)
    if roll < 0.95:
        return rng.choice(pool)
    return rng.choice(GENERIC_TEXTS)


def _random_batch(contract, rng: random.Random, n: int):
    required_when_values: dict[str, list[str]] = {}
    for f in contract.fields:
        for key, value in (f.required_when or {}).items():
            required_when_values.setdefault(key, []).append(value)
    records, parse_errors = [], []
    for _ in range(n):
        # Some rows are nearly clean, some broken here and there, some broken everywhere.
        p_bad = rng.choice([0.0, 0.03, 0.3, 1.0])
        record = {}
        for f in contract.fields:
            if rng.random() < p_bad:
                text = _random_text(f, rng, required_when_values)
            else:
                text = _good_text(f, rng, required_when_values)
            if text is not None:
                record[f.name] = text
        parse_errors.append("unreadable record" if rng.random() < 0.03 else None)
        records.append(record)
    return records, parse_errors


def test_pattern_examples_cover_every_shipped_pattern(contracts):
    patterns = {f.pattern for c in contracts.values() for f in c.fields if f.pattern}
    assert patterns <= set(PATTERN_EXAMPLES)


@pytest.mark.parametrize("contract_name", sorted(load_contracts()))
def test_random_batches_get_the_same_verdicts(contracts, judges, contract_name):
    contract = contracts[contract_name]
    rng = random.Random(f"kizuna-{contract_name}")
    records, parse_errors = _random_batch(contract, rng, 2000)
    reference_time = datetime(2026, 5, 2, 12, 0, tzinfo=UTC)
    verdicts = {j: judges[j](contract, records, parse_errors, reference_time) for j in JUDGE_NAMES}
    mismatches = [
        (i, records[i], {j: verdicts[j][i] for j in JUDGE_NAMES})
        for i in range(len(records))
        if not verdicts["sql"][i] == verdicts["record"][i] == verdicts["ge"][i]
    ]
    assert not mismatches, f"{len(mismatches)} rows differ, first: {mismatches[:3]}"
    # The batch is a real mix: most rules fire somewhere and some rows are clean.
    fired = {rid for v in verdicts["sql"] for rid in (*v.errors, *v.warnings)}
    row_rules = {r.id for r in contract_rules(contract) if r.scope == "row"}
    assert len(fired) >= 0.8 * len(row_rules), sorted(row_rules - fired)
    assert any(v.ok for v in verdicts["sql"])


# --- typed values ---------------------------------------------------------------------------


def _duckdb_typed(f: Field, texts: list[str]) -> list:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
        expr = typed_sql(f, '"v"')
        if f.type == "json":
            expr = f"({expr}) IS NOT NULL"
        return [row[0] for row in con.execute(f"SELECT {expr} FROM t ORDER BY i").fetchall()]
    finally:
        con.close()


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("ftype", sorted(TYPE_TEXTS))
def test_typed_values_agree(ftype):
    f = Field(name="v", type=ftype)
    texts = [t for t in TYPE_TEXTS[ftype] + GENERIC_TEXTS if t]
    duck = _duckdb_typed(f, texts)
    contract = Contract(name="t", format="jsonl", location="t/*.jsonl", fields=(f,))
    frame = typed_frame(contract, pd.DataFrame({"v": pd.Series(texts, dtype=object)}))
    shadow = frame[shadow_column("v")].tolist()
    for text, d, s in zip(texts, duck, shadow, strict=True):
        py = typed_value(f, text)
        if ftype == "json":
            assert d == is_of_type(f, text) == (s is not None), text
            continue
        s = None if pd.isna(s) else s
        if ftype == "date":
            s = s.date() if s is not None else None
        if ftype == "timestamp":
            s = s.to_pydatetime() if s is not None else None
        if ftype in ("integer",) and s is not None:
            s = int(s)
        assert (d is None) == (py is None) == (s is None), (text, d, py, s)
        if py is None:
            continue
        if ftype == "date":
            assert isinstance(py, date) and d == py == s, text
        elif ftype == "timestamp":
            assert py.tzinfo is not None and d == py == s, text
        elif ftype == "boolean":
            assert d is py and bool(s) is py, text
        else:
            assert _same(d, py) and s == py, (text, d, py, s)


def test_max_future_limit_with_microseconds(contracts, judges):
    """A reference time with microseconds: the three judges draw the limit at the same instant."""
    contract = contracts["events"]
    reference_time = datetime(2026, 5, 2, 12, 0, 0, 123457, tzinfo=UTC)
    texts = [
        "2026-05-04T12:00:00.123456Z", "2026-05-04T12:00:00.123457Z",
        "2026-05-04T12:00:00.123458Z", "2026-05-04T21:00:00.123457+09:00",
    ]
    base = {"message_id": "m", "type": "page", "anonymous_id": "a"}
    records = [{**base, "timestamp": t} for t in texts]
    expected = [(), (), ("max_future:timestamp",), ()]
    for name, judge in judges.items():
        got = [v.errors for v in judge(contract, records, [None] * len(records), reference_time)]
        assert got == expected, name
