"""Audience members as Google Customer Match and Meta Custom Audiences accept them: normalized, SHA-256.

Neither platform receives a plain email or phone: each is normalized by the platform's own rule and
hashed, so the platform can match it against its own hashes.

- Google (https://developers.google.com/google-ads/api/docs/remarketing/audience-types/customer-match):
  email trimmed and lowercased (dots before @ removed for gmail.com/googlemail.com: Google's enhanced
  conversions rule, which Customer Match accepts as well); phone in E.164 with its '+'. API shape:
  `OfflineUserDataJobOperation` `create`/`remove` with `userIdentifiers` of `hashedEmail` /
  `hashedPhoneNumber`, sent to `{job resource name}:addOperations`. Upload file: CSV with the
  documented headers `Email` and `Phone` holding the hashes (template at https://g.co/wudy8r).
- Meta (https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users):
  email trimmed and lowercased; phone digits only with the country code, no '+' and no leading zeros.
  Multi-key payload `{"payload": {"schema": ["EMAIL", "PHONE"], "data": [[..., ...]]}}` with SHA-256
  values (the `*_SHA256` names are the single-key schemas); POST adds, DELETE removes, on
  `/{audience_id}/users`, at most 10,000 rows a request.

Two ways out: `AdFileTransport` writes each batch as upload files through fsspec (the same names on a
re-send, so no row is uploaded twice), and `google_encoder` / `meta_encoder` give `WebhookTransport`
the request shapes for a configured endpoint.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import fsspec

from kizuna.activation.transport import Change, DestinationError, Outcome
from kizuna.activation.webhook import BatchEncoder, Request, Unsendable, dumps
from kizuna.identity.normalize import normalize_phone

Platform = Literal["google", "meta"]
NO_IDENTIFIER = "no email or phone to match on"
META_MAX_ROWS = 10_000
META_SCHEMA = ["EMAIL", "PHONE"]
GOOGLE_CSV_HEADER = ["Email", "Phone"]
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def google_email(value: Any) -> str | None:
    if not isinstance(value, str) or "@" not in value.strip():
        return None
    local, _, domain = value.strip().lower().rpartition("@")
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}" if local and domain else None


def meta_email(value: Any) -> str | None:
    if not isinstance(value, str) or "@" not in value.strip():
        return None
    return value.strip().lower()


def google_phone(value: Any, region: str) -> str | None:
    return normalize_phone(value, region) if isinstance(value, str) else None


def meta_phone(value: Any, region: str) -> str | None:
    e164 = google_phone(value, region)
    return e164.lstrip("+") if e164 else None


def hashed_identifiers(
    change: Change, platform: Platform, *, email_field: str = "email", phone_field: str = "phone", region: str = "JP"
) -> tuple[str | None, str | None]:
    """(hashed email, hashed phone) of one change by the platform's rules; None where absent or invalid."""
    email_value, phone_value = change.fields.get(email_field), change.fields.get(phone_field)
    if platform == "google":
        email, phone = google_email(email_value), google_phone(phone_value, region)
    else:
        email, phone = meta_email(email_value), meta_phone(phone_value, region)
    return (_sha256(email) if email else None, _sha256(phone) if phone else None)


class _Rows:
    """A batch split into hashed adds and removes, plus the changes with nothing to match on."""

    def __init__(self, changes: Sequence[Change], platform: Platform, email_field: str, phone_field: str, region: str):
        self.adds: list[tuple[Change, str | None, str | None]] = []
        self.removes: list[tuple[Change, str | None, str | None]] = []
        self.unmatchable: list[Change] = []
        for c in changes:
            email, phone = hashed_identifiers(
                c, platform, email_field=email_field, phone_field=phone_field, region=region
            )
            if email is None and phone is None:
                self.unmatchable.append(c)
            else:
                (self.removes if c.action == "remove" else self.adds).append((c, email, phone))


def _google_identifiers(email: str | None, phone: str | None) -> list[dict[str, str]]:
    ids = []
    if email:
        ids.append({"hashedEmail": email})
    if phone:
        ids.append({"hashedPhoneNumber": phone})
    return ids


def google_operations(rows: Sequence[tuple[Change, str | None, str | None]], op: str) -> list[dict[str, Any]]:
    """`OfflineUserDataJobOperation`s (JSON form), one per member; op is "create" or "remove"."""
    return [{op: {"userIdentifiers": _google_identifiers(email, phone)}} for _, email, phone in rows]


def _unique(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(pairs))  # a member changed twice in one batch is still one row


def google_csv(rows: Sequence[tuple[Change, str | None, str | None]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GOOGLE_CSV_HEADER)
    writer.writerows(_unique([(email or "", phone or "") for _, email, phone in rows]))
    return out.getvalue().encode("utf-8")


def meta_payload(rows: Sequence[tuple[Change, str | None, str | None]]) -> dict[str, Any]:
    data = _unique([(email or "", phone or "") for _, email, phone in rows])
    return {"payload": {"schema": META_SCHEMA, "data": [list(row) for row in data]}}


def google_encoder(
    job_resource_name: str, *, email_field: str = "email", phone_field: str = "phone", region: str = "JP"
) -> BatchEncoder:
    """Requests to `{url}/{job_resource_name}:addOperations` (the URL carries the API version):
    creates and removes in separate requests, so a failure of one does not undo the other."""
    path = f"/{job_resource_name.strip('/')}:addOperations"

    def encode(batch_id: str, changes: Sequence[Change]) -> list[Request | Unsendable]:
        rows = _Rows(changes, "google", email_field, phone_field, region)
        out: list[Request | Unsendable] = []
        if rows.unmatchable:
            out.append(Unsendable(tuple(c.key for c in rows.unmatchable), NO_IDENTIFIER))
        for op, part in (("remove", rows.removes), ("create", rows.adds)):  # removals first, as in esp
            if part:
                body = dumps({"operations": google_operations(part, op)})
                out.append(Request(body=body, keys=tuple(c.key for c, _, _ in part), path=path))
        return out

    return encode


def meta_encoder(
    audience_id: str, *, email_field: str = "email", phone_field: str = "phone", region: str = "JP"
) -> BatchEncoder:
    """Requests to `{url}/{audience_id}/users`: POST to add, DELETE to remove, 10,000 rows at most each."""
    path = f"/{audience_id}/users"

    def encode(batch_id: str, changes: Sequence[Change]) -> list[Request | Unsendable]:
        rows = _Rows(changes, "meta", email_field, phone_field, region)
        out: list[Request | Unsendable] = []
        if rows.unmatchable:
            out.append(Unsendable(tuple(c.key for c in rows.unmatchable), NO_IDENTIFIER))
        for method, part in (("DELETE", rows.removes), ("POST", rows.adds)):  # removals first, as in esp
            for start in range(0, len(part), META_MAX_ROWS):
                chunk = part[start : start + META_MAX_ROWS]
                body = dumps(meta_payload(chunk))
                out.append(Request(body=body, keys=tuple(c.key for c, _, _ in chunk), method=method, path=path))
        return out

    return encode


class AdFileTransport:
    """Writes each batch as platform upload files: `{prefix}/{batch_id}-add.csv|json` and `-remove.*`.

    A re-sent batch writes the same names again, so a rerun replaces its files instead of adding rows.
    """

    def __init__(
        self,
        kind: Platform,
        url_prefix: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        email_field: str = "email",
        phone_field: str = "phone",
        region: str = "JP",
    ):
        if kind not in ("google", "meta"):
            raise DestinationError(f"ad files {url_prefix}: kind must be 'google' or 'meta', not {kind!r}")
        self.kind = kind
        self.url_prefix = url_prefix.rstrip("/")
        self._fs, self._root = fsspec.core.url_to_fs(self.url_prefix, **dict(storage_options or {}))
        protocols = self._fs.protocol if isinstance(self._fs.protocol, tuple) else (self._fs.protocol,)
        self._local = "file" in protocols or "local" in protocols
        self._fields = {"email_field": email_field, "phone_field": phone_field, "region": region}

    def __repr__(self) -> str:
        return f"AdFileTransport({self.kind!r}, {self.url_prefix!r})"

    def _write(self, name: str, data: bytes) -> None:
        path = f"{self._root}/{name}"
        if not self._local:
            self._fs.pipe_file(path, data)  # an object store's put is all-or-nothing already
            return
        self._fs.makedirs(self._root, exist_ok=True)
        tmp = f"{self._root}/.{name}.{uuid.uuid4().hex}.tmp"
        self._fs.pipe_file(tmp, data)
        self._fs.mv(tmp, path)  # a rename: a reader sees the old file or the new one, never half

    def send(self, batch_id: str, changes: Sequence[Change]) -> list[Outcome]:
        if not changes:
            return []
        if not batch_id or "/" in batch_id or "\\" in batch_id or batch_id.startswith("."):
            error = f"ad files {self.url_prefix}: batch id {batch_id!r} cannot name a file"
            return [Outcome(c.key, False, 1, error) for c in changes]
        rows = _Rows(changes, self.kind, **self._fields)
        fate = {c.key: Outcome(c.key, False, 0, NO_IDENTIFIER) for c in rows.unmatchable}
        ext = "csv" if self.kind == "google" else "json"
        for suffix, part in (("add", rows.adds), ("remove", rows.removes)):
            if not part:
                continue
            data = google_csv(part) if self.kind == "google" else dumps(meta_payload(part))
            name = f"{batch_id}-{suffix}.{ext}"
            try:
                self._write(name, data)
            except Exception as exc:  # any storage failure fails these changes, so the sync retries them
                error = f"ad files {self.url_prefix}/{name}: {type(exc).__name__}: {exc}"
                fate.update({c.key: Outcome(c.key, False, 1, error) for c, _, _ in part})
            else:
                fate.update({c.key: Outcome(c.key, True, 1) for c, _, _ in part})
        return [fate[c.key] for c in changes]

    def close(self) -> None:
        pass
