"""Destinations as configured: config/destinations/*.yml are read and checked, each kind's transport
is built from its options, and whole syncs reach real servers on loopback (PostgreSQL for the
CRM, an S3-compatible server for files, the HTTP receiver for the email service), with a consent
withdrawal arriving as a removal."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import boto3
import duckdb
import psycopg2
import pytest

from kizuna.activation.destinations import load_destinations
from kizuna.activation.policy import check_fields, column_labels
from kizuna.activation.sync import run_sync
from kizuna.activation.transports import transport_for
from kizuna.settings import load_settings, project_root
from kizuna.understand.config import ConfigError

from .receiver import Receiver
from .test_killed_sync import build_warehouse
from .test_sync import LABELS, destination


def test_the_shipped_destinations_load_and_may_send_what_they_are_configured_to_send():
    from dagster_project.defs.act.audiences import MANIFEST

    found = load_destinations()
    assert {"audience_exports", "google_customer_match", "meta_custom_audiences", "crm_audience_members",
            "journey_webhook", "newsletter_list"} <= set(found)
    labels = column_labels(MANIFEST, "audience_profiles")
    for d in found.values():
        check_fields(d, labels)  # raises naming the field, label and destination otherwise
    assert found["google_customer_match"].consent == ("advertising",)
    assert found["google_customer_match"].require_any == ("email", "phone")
    assert found["crm_audience_members"].consent == ()  # service: no marketing consent needed


def test_labels_follow_columns_through_the_models_that_pass_them_on():
    from dagster_project.defs.act.audiences import MANIFEST

    labels = column_labels(MANIFEST, "audience_profiles")
    assert labels["email"] == ("identity_direct", "contact")  # declared on customer_profile
    assert labels["churn_decile"] == ("behavioral", "prediction")  # declared on customer_360
    assert labels["journey_stage"] == ("behavioral",)  # declared on audience_profiles itself


@pytest.mark.parametrize(("text", "message"), [
    ("kind: fax\npurpose: marketing\nchannel: email\naudiences: [a]\n", "kind: 'fax' is not one of"),
    ("kind: file\npurpose: sales\nchannel: email\naudiences: [a]\n", "purpose: 'sales' is not one of"),
    ("kind: file\npurpose: marketing\nchannel: email\naudiences: []\n", "audiences: list at least one"),
    ("kind: esp\npurpose: marketing\nchannel: email\naudiences: [a]\nfields: [journey_stage]\n",
     r"require_any: \['email'\] must be among fields"),
    ("kind: file\npurpose: marketing\nchannel: email\naudiences: [a]\nconsent: [telepathy]\n",
     "consent: 'telepathy' is not one of"),
])
def test_a_wrong_destination_file_names_the_file_and_key(tmp_path, text, message):
    folder = tmp_path / "config" / "destinations"
    folder.mkdir(parents=True)
    (folder / "_purposes.yml").write_text((project_root() / "config/destinations/_purposes.yml").read_text())
    (folder / "bad.yml").write_text(text)
    with pytest.raises(ConfigError, match=message) as error:
        load_destinations(tmp_path)
    assert str(error.value).startswith("config/destinations/bad.yml: ")


def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    path = str(tmp_path / "wh.duckdb")
    build_warehouse(path)
    return duckdb.connect(path)


def withdraw(con: duckdb.DuckDBPyConnection, person: str) -> None:
    con.execute("update marts.audience_profiles set consent_email_marketing = 'withdrawn' where person_id = ?",
                [person])


@pytest.mark.postgres
def test_crm_sync_upserts_then_removes_on_withdrawn_consent_and_leaves_contacts_alone(tmp_path, crm_dsn):
    schema = f"kizuna_sync_{uuid.uuid4().hex[:8]}"
    crm = destination(name="crm_members", kind="crm", purpose="service", consent=("email_marketing",),
                      channel="crm", options={"schema": schema, "table": "audience_members"})
    con = warehouse(tmp_path)
    settings = load_settings()
    try:
        first = run_sync(con, crm, "vip", transport_for(crm, settings), LABELS)
        withdraw(con, "p001")
        second = run_sync(con, crm, "vip", transport_for(crm, settings), LABELS)
        with psycopg2.connect(crm_dsn) as pg, pg.cursor() as cur:
            cur.execute(f'select person_id, fields from "{schema}".audience_members order by person_id')
            rows = cur.fetchall()
    finally:
        with psycopg2.connect(crm_dsn) as pg, pg.cursor() as cur:
            cur.execute(f'drop schema if exists "{schema}" cascade')
    assert (first.added, second.removed, second.added) == (51, 1, 0)
    assert len(rows) == 50 and "p001" not in {r[0] for r in rows}
    assert dict(rows)["p002"] == {"email": "u2@x.jp", "churn_decile": 2}


def test_file_sync_to_an_s3_compatible_bucket_writes_each_change_once(tmp_path, s3_server, monkeypatch):
    endpoint, bucket, options = s3_server
    monkeypatch.setenv("TEST_S3_ENDPOINT", endpoint)
    monkeypatch.setenv("TEST_S3_KEY", options["key"])
    monkeypatch.setenv("TEST_S3_SECRET", options["secret"])
    files = destination(name="lake", kind="file", purpose="marketing", channel="files", batch_size=20, options={
        "url": f"s3://{bucket}/kizuna-{uuid.uuid4().hex[:6]}", "format": "csv", "endpoint_url_env": "TEST_S3_ENDPOINT",
        "key_env": "TEST_S3_KEY", "secret_env": "TEST_S3_SECRET"})
    con = warehouse(tmp_path)
    transport = transport_for(files, load_settings(), "vip")
    run_sync(con, files, "vip", transport, LABELS)
    withdraw(con, "p002")
    run_sync(con, files, "vip", transport, LABELS)
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=options["key"],
                      aws_secret_access_key=options["secret"], region_name="us-east-1")
    prefix = files.options["url"].split(f"{bucket}/", 1)[1] + "/vip/"
    objects = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    lines = [line for o in objects for line in
             s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode().splitlines()[1:]]
    assert len(objects) == 4  # three batches of adds, one of the removal
    keys = [line.split(",")[0] for line in lines]
    assert len(keys) == len(set(keys)) == 52
    assert sum('"remove","vip","p002"' in line for line in lines) == 1


def test_email_service_list_gets_upserts_and_a_removal_on_withdrawn_consent(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_ESP_KEY", "esp-secret")
    con = warehouse(tmp_path)
    with Receiver("esp-secret") as receiver:
        esp = destination(name="newsletter", kind="esp", channel="email", require_any=("email",), batch_size=100,
                          options={"url": receiver.url, "secret_env": "TEST_ESP_KEY", "list_id": 7,
                                   "attributes": {"churn_decile": "CHURN_DECILE"}, "rate_limit_per_s": 100})
        run_sync(con, esp, "vip", transport_for(esp, load_settings()), LABELS)
        withdraw(con, "p003")
        result = run_sync(con, esp, "vip", transport_for(esp, load_settings()), LABELS)
        bodies = dict(receiver.bodies)
    imported = bodies["/v3/contacts/import"][0]["json"]
    assert imported["listIds"] == [7] and len(imported["jsonBody"]) == 51
    assert imported["jsonBody"][0]["attributes"] == {"CHURN_DECILE": 1}
    assert bodies["/v3/contacts/lists/7/contacts/remove"][0]["json"] == {"emails": ["u3@x.jp"]}
    assert result.removed == 1 and result.held_back == {"no_consent:email_marketing": 10}


def test_a_destination_whose_secret_is_not_set_fails_before_sending(monkeypatch):
    from kizuna.activation.transport import DestinationError

    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    hook = destination(kind="webhook", options={"url": "http://127.0.0.1:9/x", "secret_env": "NOT_SET_ANYWHERE"})
    with pytest.raises(DestinationError, match="NOT_SET_ANYWHERE"):
        transport_for(hook, load_settings())


def test_members_are_recorded_with_entered_and_exited_times(tmp_path):
    from kizuna.audiences import membership

    con = warehouse(tmp_path)
    con.execute("create table wanted as select 'p001' as person_id union all select 'p999'")
    result = membership.record(con, "vip", "select person_id from wanted", datetime(2026, 10, 2), None, "t")
    assert (result.members, result.entered, result.exited) == (2, 1, 59)
    stays = con.sql("select person_id, entered_at, exited_at from act.audience_membership "
                    "where person_id in ('p001', 'p002', 'p999') order by 1").fetchall()
    assert stays == [("p001", datetime(2026, 10, 1), None), ("p002", datetime(2026, 10, 1), datetime(2026, 10, 2)),
                     ("p999", datetime(2026, 10, 2), None)]


def test_labels_start_in_the_contracts_and_reach_every_column_audiences_read():
    from dagster_project.defs.act.audiences import MANIFEST
    from data_contracts import load_contracts

    labels = column_labels(MANIFEST, "audience_profiles")
    declared: dict[str, set[str]] = {}
    for contract in load_contracts().values():
        for field in contract.fields:
            declared.setdefault(field.name, set()).update(field.labels)
    columns = [c for n in MANIFEST["nodes"].values() if n.get("name") in ("customer_profile", "customer_360",
                                                                           "audience_profiles")
               for c in n["columns"]]
    assert {"email", "phone", "birth_date", "churn_decile", "journey_stage"} <= set(columns)
    for column in columns:
        assert labels.get(column), f"{column} has no data-usage label"
    # A column named like a source field carries at least that field's labels (first-party fields
    # such as email are labelled the same in every contract that has them).
    carried = [c for c in columns if declared.get(c)]
    assert {"email", "phone", "birth_date"} <= set(carried)
    for column in carried:
        assert set(labels[column]) >= declared[column], (column, labels[column], declared[column])


def test_an_identity_merge_reaches_an_email_list_as_removal_then_addition(tmp_path, monkeypatch):
    """p001 is merged into a new person p900 who keeps p001's email: the list must end up holding it."""
    from kizuna.audiences import membership

    monkeypatch.setenv("TEST_ESP_KEY", "esp-secret")
    con = warehouse(tmp_path)
    with Receiver("esp-secret") as receiver:
        esp = destination(name="newsletter", kind="esp", channel="email", require_any=("email",), batch_size=1000,
                          options={"url": receiver.url, "secret_env": "TEST_ESP_KEY", "list_id": 7,
                                   "rate_limit_per_s": 100})
        run_sync(con, esp, "vip", transport_for(esp, load_settings()), LABELS)
        con.execute("update marts.audience_profiles set person_id = 'p900' where person_id = 'p001'")
        membership.record(con, "vip", "select person_id from marts.audience_profiles", datetime(2026, 10, 2), None,
                          "t")
        result = run_sync(con, esp, "vip", transport_for(esp, load_settings()), LABELS)
        paths = [r["path"] for r in receiver.requests if r["status"] == 200]
    assert (result.added, result.removed) == (1, 1)
    assert paths[-2:] == ["/v3/contacts/lists/7/contacts/remove", "/v3/contacts/import"]
