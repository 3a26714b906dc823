"""A contract as a flat list of named rules: the common language of every judge.

Row rules are judged on a record whose values are text (None when absent or empty). `error` rules
send the record to quarantine; `warn` rules keep it and report it (unplanned event names).
File rules (`column:<name>`) are judged on a file's header: a file without a required column is
rejected whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from data_contracts.model import Contract

ERROR = "error"
WARN = "warn"
PARSE_RULE = "parse"


@dataclass(frozen=True)
class Rule:
    id: str
    # parse, column, required, required_when, one_of_required, type, enum, pattern, minimum, maximum, max_future
    kind: str
    fields: tuple[str, ...]
    severity: str
    params: dict[str, Any]
    message: str

    @property
    def field(self) -> str:
        return self.fields[0]

    @property
    def scope(self) -> str:
        return "file" if self.kind == "column" else "row"


def contract_rules(contract: Contract) -> list[Rule]:
    """Every rule of a contract, in a stable order (parse first, then field by field)."""
    rules = [Rule(PARSE_RULE, "parse", (), ERROR, {}, "record could not be read")]
    if contract.format in ("csv", "parquet"):
        rules += [
            Rule(f"column:{c}", "column", (c,), ERROR, {}, f"required column {c!r} is missing")
            for c in contract.required_columns
        ]
    for f in contract.fields:
        n = f.name
        if f.required:
            rules.append(Rule(f"required:{n}", "required", (n,), ERROR, {}, f"{n} is required"))
        if f.required_when:
            cond = ", ".join(f"{k} = {v!r}" for k, v in f.required_when.items())
            rules.append(
                Rule(f"required_when:{n}", "required_when", (n,), ERROR, {"when": f.required_when},
                     f"{n} is required when {cond}")
            )
        if f.type not in ("string",):
            rules.append(Rule(f"type:{n}", "type", (n,), ERROR, {"type": f.type}, f"{n} must be a {f.type}"))
        if f.enum is not None:
            severity = WARN if f.on_unknown == "report" else ERROR
            rules.append(
                Rule(f"enum:{n}", "enum", (n,), severity, {"values": f.enum},
                     f"{n} must be one of the contract's {len(f.enum)} values")
            )
        if f.pattern:
            rules.append(
                Rule(f"pattern:{n}", "pattern", (n,), ERROR, {"pattern": f.pattern},
                     f"{n} must match {f.pattern}")
            )
        if f.minimum is not None:
            rules.append(
                Rule(f"minimum:{n}", "minimum", (n,), ERROR, {"value": f.minimum, "type": f.type},
                     f"{n} must be at least {f.minimum}")
            )
        if f.maximum is not None:
            rules.append(
                Rule(f"maximum:{n}", "maximum", (n,), ERROR, {"value": f.maximum, "type": f.type},
                     f"{n} must be at most {f.maximum}")
            )
        if f.max_future_hours is not None:
            rules.append(
                Rule(f"max_future:{n}", "max_future", (n,), ERROR,
                     {"hours": float(f.max_future_hours), "type": f.type},
                     f"{n} must not be more than {f.max_future_hours} h in the future")
            )
    for group in contract.one_of_required:
        rules.append(
            Rule("one_of_required:" + "|".join(group), "one_of_required", tuple(group), ERROR, {},
                 "at least one of " + ", ".join(group) + " is required")
        )
    return rules
