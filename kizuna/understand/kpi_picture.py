"""The picture of the KPI tree on kpi_values: every node as a box with its value in the latest
month and the change against the month before (green up, red down), drawn left to right from the
KGI, and, for the KPIs on a decomposed path, how much of the KGI's change each explains
(kpi_contributions)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
from matplotlib.figure import Figure

from kizuna.understand.pictures import picture

UP = ("#dcedc8", "#2e7d32")
DOWN = ("#ffcdd2", "#c62828")
FLAT = ("#eeeeee", "#757575")
COLUMN_WIDTH = 3.4
ROW_HEIGHT = 0.9


@dataclass
class Box:
    node_id: str
    name: str
    parent_id: str | None
    unit: str | None
    value: float | None
    change: float | None
    relative_change: float | None
    to_kgi: float | None = None
    depth: int = 0
    row: float = 0.0


def _number(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def format_value(value: float | None, unit: str | None) -> str:
    """A node's value as people read it."""
    if value is None:
        return "n/a"
    if unit == "JPY":
        return f"¥{value:,.0f}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "score":
        return f"{value:.1f}"
    return f"{value:.3g}"


def format_change(box: Box) -> str:
    if box.relative_change is not None:
        return f"{box.relative_change:+.1%}"
    if box.change is not None:
        return f"{box.change:+.3g}"
    return "no previous value"


def _layout(boxes: dict[str, Box]) -> tuple[int, int]:
    """Rows for the leaves in tree order, each parent centred on its children; (depth, rows)."""
    children: dict[str | None, list[str]] = {}
    for box in boxes.values():
        parent = box.parent_id if box.parent_id in boxes else None
        children.setdefault(parent, []).append(box.node_id)
    for ids in children.values():
        ids.sort(key=lambda i: boxes[i].name.lower())
    next_row = [0]

    def place(node_id: str, depth: int) -> float:
        box = boxes[node_id]
        box.depth = depth
        kids = children.get(node_id, [])
        if kids:
            rows = [place(kid, depth + 1) for kid in kids]
            box.row = (rows[0] + rows[-1]) / 2
        else:
            box.row = next_row[0]
            next_row[0] += 1
        return box.row

    for root in children.get(None, []):
        place(root, 0)
    return max(b.depth for b in boxes.values()) + 1, next_row[0]


def _period(con: duckdb.DuckDBPyConnection):
    """(month start, previous month start, both complete) of the latest month compared with a
    previous one, preferring two months the data covers fully (a partial month's totals look like
    a fall); None without two months."""
    months = con.sql("select distinct period_start, is_complete from marts.kpi_values "
                     "where grain = 'month' order by period_start").fetchall()
    pairs = [(cur[0], prev[0], bool(cur[1] and prev[1])) for prev, cur in zip(months, months[1:], strict=False)]
    complete = [pair for pair in pairs if pair[2]]
    return (complete or pairs or [None])[-1]


@picture("kpi_values")
def draw(con: duckdb.DuckDBPyConnection) -> Figure | None:
    """The KPI tree with each node's latest-month value and change against the previous month."""
    period = _period(con)
    if period is None:
        return None
    start, previous, complete = period
    rows = con.execute(
        "select node_id, node_name, parent_id, unit, value, change, relative_change "
        "from marts.kpi_values where grain = 'month' and period_start = ?", [start]).fetchall()
    boxes = {r[0]: Box(r[0], r[1] or r[0], r[2], r[3], _number(r[4]), _number(r[5]), _number(r[6]))
             for r in rows}
    for child_id, to_kgi in con.execute(
            "select child_id, contribution_to_kgi from marts.kpi_contributions "
            "where grain = 'month' and period_start = ?", [start]).fetchall():
        if child_id in boxes:
            boxes[child_id].to_kgi = _number(to_kgi)
    if not boxes:
        return None
    kgi = next((b for b in boxes.values() if b.parent_id is None), None)
    depth, leaves = _layout(boxes)

    figure = Figure(figsize=(depth * COLUMN_WIDTH + 0.5, leaves * ROW_HEIGHT + 1.2))
    ax = figure.add_subplot()
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.5 / (leaves * ROW_HEIGHT + 1.2))
    ax.set_xlim(-0.2 * COLUMN_WIDTH, (depth - 0.4) * COLUMN_WIDTH + 0.8)
    ax.set_ylim(leaves - 0.4, -0.8)
    ax.axis("off")
    for box in boxes.values():
        parent = boxes.get(box.parent_id) if box.parent_id else None
        if parent is None:
            continue
        px, cx = parent.depth * COLUMN_WIDTH, box.depth * COLUMN_WIDTH
        middle = (px + cx) / 2 + 0.35
        ax.plot([px, middle, middle, cx], [parent.row, parent.row, box.row, box.row],
                color="#9e9e9e", linewidth=0.9, zorder=1)
    for box in boxes.values():
        face, edge = UP if (box.change or 0) > 0 else DOWN if (box.change or 0) < 0 else FLAT
        lines = [box.name, f"{format_value(box.value, box.unit)}   {format_change(box)}"]
        if box.to_kgi is not None and kgi is not None and box is not kgi:
            sign = "+" if box.to_kgi >= 0 else "-"
            lines.append(f"explains {sign}{format_value(abs(box.to_kgi), kgi.unit)} of {kgi.name}")
        ax.text(box.depth * COLUMN_WIDTH, box.row, "\n".join(lines), ha="center", va="center", fontsize=8,
                zorder=2, bbox={"boxstyle": "round,pad=0.4", "facecolor": face, "edgecolor": edge,
                                "linewidth": 1.2})
    note = "" if complete else " (a month the data covers only in part)"
    figure.suptitle(f"KPI tree: {start:%B %Y} against {previous:%B %Y}{note}; green up, red down", fontsize=11)
    return figure
