"""Pictures of marts, attached to their Dagster asset on every materialization.

A picture is a function from a read-only warehouse connection to a matplotlib figure (or None when
the mart has nothing to draw), registered for a dbt model name with `@picture("model")`. The
understand domain's dbt asset renders the pictures of the models it built once dbt has finished
and puts each in the model's metadata: a PNG embedded in markdown, so the Dagster UI shows it, and
the file's path under `<warehouse folder>/pictures/`.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # no display: render to files only

from matplotlib.figure import Figure  # noqa: E402

Drawer = Callable[[duckdb.DuckDBPyConnection], Figure | None]
PICTURES: dict[str, Drawer] = {}
DPI = 110


def picture(model: str) -> Callable[[Drawer], Drawer]:
    """Register `drawer` as the picture of dbt model `model`."""

    def register(drawer: Drawer) -> Drawer:
        if model in PICTURES:
            raise ValueError(f"two pictures for model {model!r}")
        PICTURES[model] = drawer
        return drawer

    return register


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def render(con: duckdb.DuckDBPyConnection, model: str, folder: Path) -> tuple[str, Path] | None:
    """(markdown with the PNG embedded, the PNG's path) of `model`'s picture, or None."""
    drawer = PICTURES.get(model)
    figure = drawer(con) if drawer else None
    if figure is None:
        return None
    data = png_bytes(figure)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model}.png"
    path.write_bytes(data)
    markdown = f"![{model}](data:image/png;base64,{base64.b64encode(data).decode()})"
    return markdown, path
