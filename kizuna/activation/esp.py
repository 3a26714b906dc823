"""An email service's contact list, kept in step with an audience through Brevo's bulk contacts API.

Brevo was chosen because it upserts contacts into a list in bulk and removes them from a list by
email in bulk, both idempotent, so a re-sent batch is harmless. The shapes follow its reference:

- adds and updates: `POST /v3/contacts/import` with `listIds`, `jsonBody` (`email` + `attributes`),
  `updateExistingContacts` and `emptyContactsAttributes`
  (https://developers.brevo.com/reference/import-contacts,
  https://developers.brevo.com/changelog/contact-import-endpoint-now-supports-json-body);
- removals: `POST /v3/contacts/lists/{listId}/contacts/remove` with `{"emails": [...]}`, at most 150
  emails a request (https://developers.brevo.com/reference/remove-contact-from-list).

The requests travel over `WebhookTransport` (rate limit, retries, signing); Brevo authenticates with
an `api-key` header, which the caller passes in the transport's `headers`. The transport URL is the
API root (`https://api.brevo.com`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kizuna.activation.transport import Change
from kizuna.activation.webhook import BatchEncoder, Request, Unsendable, dumps

IMPORT_PATH = "/v3/contacts/import"
REMOVE_PATH = "/v3/contacts/lists/{list_id}/contacts/remove"
MAX_REMOVE_EMAILS = 150  # Brevo's documented limit for one removal request


def _email(change: Change, email_field: str) -> str | None:
    value = change.fields.get(email_field)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def _attributes(change: Change, attribute_map: Mapping[str, str]) -> dict[str, Any]:
    # Missing or null fields are left out: with emptyContactsAttributes false they would not erase anyway.
    return {
        attribute: change.fields[field]
        for field, attribute in attribute_map.items()
        if change.fields.get(field) is not None
    }


def esp_encoder(
    list_id: int,
    attribute_map: Mapping[str, str],
    *,
    email_field: str = "email",
    update_existing: bool = True,
) -> BatchEncoder:
    """A batch encoder: one import request for the adds and updates, removal requests for the rest."""
    list_id = int(list_id)
    remove_path = REMOVE_PATH.format(list_id=list_id)

    def encode(batch_id: str, changes: Sequence[Change]) -> list[Request | Unsendable]:
        out: list[Request | Unsendable] = []
        no_email = tuple(c.key for c in changes if _email(c, email_field) is None)
        if no_email:
            out.append(Unsendable(no_email, "no email"))
        upserts = [c for c in changes if c.action != "remove" and _email(c, email_field)]
        removals = [c for c in changes if c.action == "remove" and _email(c, email_field)]
        # Removals first: an email that leaves under one person and arrives under another (an
        # identity merge) must end up in the list.
        for start in range(0, len(removals), MAX_REMOVE_EMAILS):
            chunk = removals[start : start + MAX_REMOVE_EMAILS]
            emails = list(dict.fromkeys(_email(c, email_field) for c in chunk))
            out.append(Request(body=dumps({"emails": emails}), keys=tuple(c.key for c in chunk), path=remove_path))
        if upserts:
            body = {
                "listIds": [list_id],
                "updateExistingContacts": update_existing,
                "emptyContactsAttributes": False,
                "disableNotification": True,
                "jsonBody": [
                    {"email": _email(c, email_field), "attributes": _attributes(c, attribute_map)} for c in upserts
                ],
            }
            out.append(Request(body=dumps(body), keys=tuple(c.key for c in upserts), path=IMPORT_PATH))
        return out

    return encode
