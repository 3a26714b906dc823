"""File destination: each batch becomes one CSV or Parquet file, on a local path or in an object store.

A batch is written as `{url_prefix}/{batch_id}.{csv|parquet}` through fsspec, so any URL fsspec
knows (a local folder, `s3://bucket/prefix` on AWS or an S3-compatible server) works alike. The
file name is the batch id, which is what makes a resend safe: a batch sent again after a crash
overwrites the same file instead of adding a second one. A reader never sees half a file: locally
the file is written under a temporary name and renamed into place; an object store publishes an
object only when its single put completes.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import fsspec
import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from kizuna.activation.transport import Change, DestinationError, Outcome, delivered, failed

Format = Literal["csv", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "parquet")
FIXED_COLUMNS = ("idempotency_key", "action", "audience", "person_id")

# the batch id becomes a file name: nothing that could climb out of the prefix or hide the file
_BATCH_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


class FileTransport:
    """Writes each batch as one file under `url_prefix`; see the module docstring."""

    def __init__(
        self,
        url_prefix: str,
        fmt: Format = "csv",
        storage_options: Mapping[str, Any] | None = None,
        columns: Sequence[str] | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise DestinationError(f"file destination {url_prefix}: format must be one of {FORMATS}, got {fmt!r}")
        if columns is not None:
            clash = sorted(set(columns) & set(FIXED_COLUMNS))
            duplicated = sorted({c for c in columns if list(columns).count(c) > 1})
            if clash or duplicated:
                raise DestinationError(
                    f"file destination {url_prefix}: columns {clash or duplicated} "
                    + ("are reserved for the change itself" if clash else "are listed twice")
                )
        self.url_prefix = url_prefix.rstrip("/")
        self.fmt = fmt
        self.columns = tuple(columns) if columns is not None else None
        try:
            self._fs, self._root = fsspec.core.url_to_fs(self.url_prefix, **dict(storage_options or {}))
        except (ValueError, ImportError, TypeError) as exc:
            raise DestinationError(f"file destination {url_prefix}: cannot open it: {exc}") from exc

    def url_for(self, batch_id: str) -> str:
        return f"{self.url_prefix}/{batch_id}.{self.fmt}"

    def send(self, batch_id: str, changes: Sequence[Change]) -> list[Outcome]:
        if not changes:
            return []
        url = self.url_for(batch_id)
        if not _BATCH_ID.fullmatch(batch_id):
            return failed(changes, f"{url}: batch id {batch_id!r} is not usable as a file name")
        try:
            payload = self._encode(changes)
        except (ValueError, pa.ArrowException) as exc:
            return failed(changes, f"{url}: {exc}")
        path = f"{self._root}/{batch_id}.{self.fmt}"
        try:
            if isinstance(self._fs, LocalFileSystem):
                _replace_local(path, payload)
            else:
                self._fs.pipe_file(path, payload)
                self._fs.invalidate_cache(path)
        except Exception as exc:  # noqa: BLE001 - every backend raises its own kinds; the batch fails whole
            return failed(changes, f"{url}: write failed: {type(exc).__name__}: {exc}")
        return delivered(changes)

    def close(self) -> None:
        """Nothing is held between batches."""

    def _encode(self, changes: Sequence[Change]) -> bytes:
        table = self._table(changes)
        buffer = io.BytesIO()
        if self.fmt == "parquet":
            pq.write_table(table, buffer)
        else:
            pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=True, quoting_style="needed"))
        return buffer.getvalue()

    def _table(self, changes: Sequence[Change]) -> pa.Table:
        # one row per key, even if a caller repeats a change within the batch: the file must hold each once
        unique = list({c.key: c for c in changes}.values())
        names = self._field_names(unique)
        data: dict[str, list[Any]] = {
            "idempotency_key": [c.key for c in unique],
            "action": [c.action for c in unique],
            "audience": [c.audience for c in unique],
            "person_id": [c.person_id for c in unique],
        }
        for name in names:
            data[name] = [c.fields.get(name) for c in unique]
        return pa.table({name: _column(values) for name, values in data.items()})

    def _field_names(self, changes: Sequence[Change]) -> list[str]:
        present = {name for c in changes for name in c.fields}
        clash = sorted(present & set(FIXED_COLUMNS))
        if clash:
            raise ValueError(f"field names {clash} clash with the columns every file has")
        if self.columns is None:
            return sorted(present)
        extra = sorted(present - set(self.columns))
        if extra:
            # dropping them silently would lose data the destination was meant to get
            raise ValueError(f"fields {extra} are not among the configured columns {list(self.columns)}")
        return list(self.columns)


def _column(values: list[Any]) -> pa.Array:
    """An Arrow column typed from its values; nested values as JSON text, mixed types as text."""
    values = [_json_text(v) if isinstance(v, Mapping | list | tuple) else v for v in values]
    if all(v is None for v in values):
        return pa.array(values, type=pa.string())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else _text(v) for v in values], type=pa.string())


def _json_text(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _replace_local(path: str, payload: bytes) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
