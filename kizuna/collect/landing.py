"""The landing zone: where exported files arrive, on a local path or any fsspec URL."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

import fsspec
from fsspec.core import url_to_fs

from data_contracts import Contract


@dataclass(frozen=True)
class LandingFile:
    """One file of one source, with the arrival day its name carries (None when it carries none)."""

    source: str
    path: str  # as fsspec names it (no protocol)
    url: str  # protocol included, for messages and the ledger
    partition: date | None
    size: int


def landing_fs(landing_url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, root = url_to_fs(landing_url)
    return fs, root.rstrip("/")


def file_partition(contract: Contract, path: str) -> date | None:
    """The arrival day in a file's name, by the contract's partition pattern."""
    if not contract.partition_pattern:
        return None
    match = re.search(contract.partition_pattern, path)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def list_files(contract: Contract, landing_url: str) -> list[LandingFile]:
    """Every landing file of a source, oldest arrival day first, then by name."""
    fs, root = landing_fs(landing_url)
    pattern = f"{root}/{contract.location}"
    found = fs.glob(pattern, detail=True)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    files = []
    for path, info in found.items():
        if info.get("type") == "directory":
            continue
        url = path if protocol == "file" else f"{protocol}://{path}"
        files.append(
            LandingFile(contract.name, path, url, file_partition(contract, path), int(info.get("size") or 0))
        )
    return sorted(files, key=lambda f: (f.partition or date.min, f.path))


def read_bytes(landing_url: str, path: str) -> bytes:
    fs, _ = landing_fs(landing_url)
    return fs.cat_file(path)


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
