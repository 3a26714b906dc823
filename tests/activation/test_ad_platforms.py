"""Google Customer Match and Meta Custom Audiences: normalization, hashing, request shapes, upload files."""

from __future__ import annotations

import csv
import hashlib
import io

import fsspec
import orjson
import pytest

from kizuna.activation.ad_platforms import (
    NO_IDENTIFIER,
    AdFileTransport,
    google_email,
    google_encoder,
    google_phone,
    hashed_identifiers,
    meta_email,
    meta_encoder,
    meta_phone,
)
from kizuna.activation.transport import Change, DestinationError
from kizuna.activation.webhook import WebhookTransport

from .receiver import Receiver

SECRET = "ads-secret"
# Published with TikTok's customer-file guide as the SHA-256 of the normalized janedoe@gmail.com; the
# same normalization (trim, lowercase) applies on Google and Meta.
JANEDOE_SHA256 = "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_email_normalization_per_platform():
    assert google_email("  Jane.Doe@GMail.com ") == "janedoe@gmail.com"
    assert google_email("j.a.n.e@googlemail.com") == "jane@googlemail.com"
    assert google_email("Jane.Doe@Example.co.jp") == "jane.doe@example.co.jp"  # dots kept off Gmail
    assert meta_email("  Jane.Doe@GMail.com ") == "jane.doe@gmail.com"
    assert google_email("not an email") is None and meta_email(None) is None


def test_phone_normalization_per_platform():
    assert google_phone("090-1234-5678", "JP") == "+819012345678"
    assert meta_phone("090-1234-5678", "JP") == "819012345678"  # no '+', no trunk zero
    assert google_phone("(650) 253-0000", "US") == "+16502530000"
    assert meta_phone("+1 (650) 253-0000", "JP") == "16502530000"  # an explicit country code wins
    assert google_phone("12", "JP") is None and meta_phone(None, "JP") is None


def test_hashes_match_a_published_vector_and_the_rules():
    c = Change("k", "a", "p", "add", {"email": " JaneDoe@gmail.com", "phone": "090-1234-5678"})
    assert hashed_identifiers(c, "google") == (JANEDOE_SHA256, sha("+819012345678"))
    assert hashed_identifiers(c, "meta") == (JANEDOE_SHA256, sha("819012345678"))
    d = Change("k", "a", "p", "add", {"email": "Jane.Doe@gmail.com"})
    assert hashed_identifiers(d, "google")[0] == JANEDOE_SHA256
    assert hashed_identifiers(d, "meta") == (sha("jane.doe@gmail.com"), None)


BATCH = [
    Change("k1", "vip", "p1", "add", {"email": "a@example.com", "phone": "090-1111-2222"}),
    Change("k2", "vip", "p2", "update", {"email": "b@example.com"}),
    Change("k3", "vip", "p3", "remove", {"phone": "+1 650 253 0000"}),
    Change("k4", "vip", "p4", "add", {"name": "nobody"}),
]


@pytest.fixture
def receiver():
    with Receiver(SECRET) as r:
        yield r


def via(url: str, encoder) -> WebhookTransport:
    return WebhookTransport(url, secret=SECRET, rate_limit_per_s=1000, batch_encoder=encoder, sleep=lambda s: None)


def test_google_operations_sent_to_the_job(receiver):
    job = "customers/123/offlineUserDataJobs/456"
    out = via(receiver.url + "/v20", google_encoder(job)).send("b1", BATCH)
    assert [(o.key, o.delivered, o.error) for o in out] == [
        ("k1", True, None),
        ("k2", True, None),
        ("k3", True, None),
        ("k4", False, NO_IDENTIFIER),
    ]
    removes, creates = receiver.bodies[f"/v20/{job}:addOperations"]  # removals go first
    assert creates["json"] == {
        "operations": [
            {
                "create": {
                    "userIdentifiers": [
                        {"hashedEmail": sha("a@example.com")},
                        {"hashedPhoneNumber": sha("+819011112222")},
                    ]
                }
            },
            {"create": {"userIdentifiers": [{"hashedEmail": sha("b@example.com")}]}},
        ]
    }
    assert removes["json"] == {
        "operations": [{"remove": {"userIdentifiers": [{"hashedPhoneNumber": sha("+16502530000")}]}}]
    }


def test_meta_posts_adds_and_deletes_removals(receiver):
    out = via(receiver.url, meta_encoder("238000001")).send("b1", BATCH)
    assert [o.delivered for o in out] == [True, True, True, False]
    remove, add = receiver.bodies["/238000001/users"]  # removals go first
    assert (remove["method"], add["method"]) == ("DELETE", "POST")
    assert add["json"] == {
        "payload": {
            "schema": ["EMAIL", "PHONE"],
            "data": [[sha("a@example.com"), sha("819011112222")], [sha("b@example.com"), ""]],
        }
    }
    assert remove["json"] == {"payload": {"schema": ["EMAIL", "PHONE"], "data": [["", sha("16502530000")]]}}


def read_csv(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


def test_google_upload_files_are_overwritten_on_a_rerun(tmp_path):
    t = AdFileTransport("google", str(tmp_path / "cm"))
    twice = [*BATCH, Change("k5", "vip", "p1", "update", {"email": "a@example.com", "phone": "090-1111-2222"})]
    for _ in range(2):  # the second send is a rerun of the same batch
        out = t.send("b7", twice)
        assert [o.delivered for o in out] == [True, True, True, False, True]
        assert out[3].error == NO_IDENTIFIER
    assert sorted(p.name for p in (tmp_path / "cm").iterdir()) == ["b7-add.csv", "b7-remove.csv"]
    assert read_csv(tmp_path / "cm" / "b7-add.csv") == [
        ["Email", "Phone"],
        [sha("a@example.com"), sha("+819011112222")],
        [sha("b@example.com"), ""],
    ]
    assert read_csv(tmp_path / "cm" / "b7-remove.csv") == [["Email", "Phone"], ["", sha("+16502530000")]]


def test_meta_upload_file_on_a_remote_filesystem():
    fs = fsspec.filesystem("memory")
    t = AdFileTransport("meta", "memory://kizuna-test-ads/meta")
    try:
        assert [o.delivered for o in t.send("b8", BATCH[:2])] == [True, True]
        assert [o.delivered for o in t.send("b8", BATCH[:2])] == [True, True]
        payload = orjson.loads(fs.cat_file("/kizuna-test-ads/meta/b8-add.json"))
        assert payload["payload"]["schema"] == ["EMAIL", "PHONE"]
        assert len(payload["payload"]["data"]) == 2
        assert fs.ls("/kizuna-test-ads/meta", detail=False) == ["/kizuna-test-ads/meta/b8-add.json"]
    finally:
        fs.rm("/kizuna-test-ads", recursive=True)


def test_bad_kind_and_bad_batch_id(tmp_path):
    with pytest.raises(DestinationError, match="kind"):
        AdFileTransport("tiktok", str(tmp_path))
    [out] = AdFileTransport("google", str(tmp_path)).send("../x", BATCH[:1])
    assert not out.delivered and "cannot name a file" in out.error
