"""The file destination: CSV and Parquet, locally and on an S3-compatible server on loopback (moto)."""

from __future__ import annotations

import io
import uuid

import boto3
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from kizuna.activation.files import FileTransport
from kizuna.activation.transport import Change, DestinationError

HEADER = ["idempotency_key", "action", "audience", "person_id", "email", "note", "points", "vip"]


def batch() -> list[Change]:
    return [
        Change("k1", "vip", "P1", "add", {"email": "a@example.jp", "points": 120, "vip": True, "note": None}),
        Change("k2", "vip", "P2", "update", {"email": "b@example.jp", "points": 7, "vip": False, "note": "雪"}),
        Change("k3", "vip", "P3", "remove", {"email": "c@example.jp"}),
    ]


EXPECTED_ROWS = [
    {"idempotency_key": "k1", "action": "add", "audience": "vip", "person_id": "P1",
     "email": "a@example.jp", "note": None, "points": 120, "vip": True},
    {"idempotency_key": "k2", "action": "update", "audience": "vip", "person_id": "P2",
     "email": "b@example.jp", "note": "雪", "points": 7, "vip": False},
    {"idempotency_key": "k3", "action": "remove", "audience": "vip", "person_id": "P3",
     "email": "c@example.jp", "note": None, "points": None, "vip": None},
]  # fmt: skip

# text quoted, numbers and booleans bare, a missing value empty and unquoted (so distinct from "")
EXPECTED_CSV = (
    '"idempotency_key","action","audience","person_id","email","note","points","vip"\n'
    '"k1","add","vip","P1","a@example.jp",,120,true\n'
    '"k2","update","vip","P2","b@example.jp","雪",7,false\n'
    '"k3","remove","vip","P3","c@example.jp",,,\n'
)


def rows_of(fmt: str, payload: bytes) -> tuple[list[str], list[dict]]:
    if fmt == "parquet":
        table = pq.read_table(io.BytesIO(payload))
    else:
        convert = pa_csv.ConvertOptions(strings_can_be_null=True, quoted_strings_can_be_null=False)
        table = pa_csv.read_csv(io.BytesIO(payload), convert_options=convert)
    return table.column_names, table.to_pylist()


def assert_all(outcomes, changes, delivered: bool) -> None:
    assert [o.key for o in outcomes] == [c.key for c in changes]
    assert all(o.delivered is delivered for o in outcomes), outcomes


# --- local ----------------------------------------------------------------------------------------


def test_local_csv_exact_text_and_no_temporary_left(tmp_path):
    prefix = tmp_path / "out" / "vip"
    transport = FileTransport(str(prefix), "csv")
    changes = batch()
    assert_all(transport.send("b-0001", changes), changes, True)
    assert sorted(p.name for p in prefix.iterdir()) == ["b-0001.csv"]
    assert (prefix / "b-0001.csv").read_text(encoding="utf-8") == EXPECTED_CSV
    names, rows = rows_of("csv", (prefix / "b-0001.csv").read_bytes())
    assert names == HEADER
    assert rows == EXPECTED_ROWS


def test_local_parquet_typed_columns(tmp_path):
    transport = FileTransport(f"file://{tmp_path}/vip/", "parquet")
    changes = batch()
    assert_all(transport.send("b-0001", changes), changes, True)
    table = pq.read_table(tmp_path / "vip" / "b-0001.parquet")
    assert table.column_names == HEADER
    assert str(table.schema.field("points").type) == "int64"
    assert str(table.schema.field("vip").type) == "bool"
    assert table.to_pylist() == EXPECTED_ROWS


def test_local_resend_overwrites_and_repeated_key_is_written_once(tmp_path):
    transport = FileTransport(str(tmp_path), "csv")
    changes = batch()
    transport.send("b-0002", changes)
    # a resend after a crash: same batch id, same keys (here one change even repeated within it)
    assert_all(transport.send("b-0002", [*changes, changes[0]]), [*changes, changes[0]], True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b-0002.csv"]
    assert (tmp_path / "b-0002.csv").read_text(encoding="utf-8") == EXPECTED_CSV


def test_configured_columns_fix_the_order_and_refuse_unlisted_fields(tmp_path):
    transport = FileTransport(str(tmp_path), "parquet", columns=["vip", "email", "segment"])
    changes = [Change("k1", "vip", "P1", "add", {"email": "a@example.jp", "vip": True})]
    assert_all(transport.send("b1", changes), changes, True)
    assert pq.read_table(tmp_path / "b1.parquet").to_pylist() == [
        {"idempotency_key": "k1", "action": "add", "audience": "vip", "person_id": "P1",
         "vip": True, "email": "a@example.jp", "segment": None},
    ]  # fmt: skip

    extra = [Change("k2", "vip", "P2", "add", {"email": "b@example.jp", "phone": "090"})]
    (outcome,) = transport.send("b2", extra)
    assert not outcome.delivered
    assert str(tmp_path / "b2.parquet") in outcome.error and "phone" in outcome.error
    assert not (tmp_path / "b2.parquet").exists()


def test_nested_and_mixed_values_become_text(tmp_path):
    transport = FileTransport(str(tmp_path), "csv")
    changes = [
        Change("k1", "a", "P1", "add", {"tags": ["x", "y"], "mixed": 1}),
        Change("k2", "a", "P2", "add", {"tags": {"k": 1}, "mixed": "one"}),
    ]
    assert_all(transport.send("b1", changes), changes, True)
    text = (tmp_path / "b1.csv").read_text(encoding="utf-8")
    assert text.splitlines() == [
        '"idempotency_key","action","audience","person_id","mixed","tags"',
        '"k1","add","a","P1","1","[""x"",""y""]"',
        '"k2","add","a","P2","one","{""k"":1}"',
    ]


def test_local_write_failure_names_the_url(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    transport = FileTransport(str(blocker), "csv")
    changes = batch()
    outcomes = transport.send("b1", changes)
    assert_all(outcomes, changes, False)
    assert all(f"{blocker}/b1.csv" in o.error for o in outcomes)


def test_unusable_batch_id_and_format_are_refused(tmp_path):
    transport = FileTransport(str(tmp_path / "vip"), "csv")
    (outcome,) = transport.send("../escape", batch()[:1])
    assert not outcome.delivered and "batch id" in outcome.error
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DestinationError, match="format"):
        FileTransport(str(tmp_path), "xlsx")  # type: ignore[arg-type]
    with pytest.raises(DestinationError, match="reserved"):
        FileTransport(str(tmp_path), "csv", columns=["email", "action"])


# --- S3-compatible server ---------------------------------------------------------------------------


@pytest.fixture
def s3(s3_server):
    endpoint, bucket, options = s3_server
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=options["key"],
        aws_secret_access_key=options["secret"],
        region_name=options["client_kwargs"]["region_name"],
    )
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    return client, bucket, prefix, options


def keys_under(client, bucket: str, prefix: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
    return sorted(o["Key"] for o in listing.get("Contents", []))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_s3_exact_rows_and_resend_overwrites(s3, fmt):
    client, bucket, prefix, options = s3
    transport = FileTransport(f"s3://{bucket}/{prefix}/vip", fmt, options)
    changes = batch()
    assert_all(transport.send("b-0001", changes), changes, True)
    assert_all(transport.send("b-0001", changes), changes, True)
    assert keys_under(client, bucket, prefix) == [f"{prefix}/vip/b-0001.{fmt}"]
    payload = client.get_object(Bucket=bucket, Key=f"{prefix}/vip/b-0001.{fmt}")["Body"].read()
    names, rows = rows_of(fmt, payload)
    assert names == HEADER
    assert rows == EXPECTED_ROWS
    if fmt == "csv":
        assert payload.decode("utf-8") == EXPECTED_CSV


def test_s3_read_back_through_s3fs_sees_the_latest_write(s3):
    import s3fs

    client, bucket, prefix, options = s3
    transport = FileTransport(f"s3://{bucket}/{prefix}", "csv", options)
    fs = s3fs.S3FileSystem(**options)
    transport.send("b1", batch()[:1])
    assert fs.ls(f"{bucket}/{prefix}") == [f"{bucket}/{prefix}/b1.csv"]
    transport.send("b2", batch()[1:])
    # no listing cached from the first look may hide the second file
    assert fs.ls(f"{bucket}/{prefix}") == [f"{bucket}/{prefix}/b1.csv", f"{bucket}/{prefix}/b2.csv"]
    assert fs.cat(f"{bucket}/{prefix}/b2.csv").decode().splitlines()[1].startswith('"k2","update","vip","P2",')


def test_s3_missing_bucket_fails_every_change_naming_the_url(s3):
    client, bucket, prefix, options = s3
    url = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/{prefix}"
    transport = FileTransport(url, "parquet", options)
    changes = batch()
    outcomes = transport.send("b1", changes)
    assert_all(outcomes, changes, False)
    assert all(f"{url}/b1.parquet" in o.error for o in outcomes), outcomes[0].error
    # a missing bucket is an error, never created on the fly
    assert url.split("/")[2] not in [b["Name"] for b in client.list_buckets()["Buckets"]]
