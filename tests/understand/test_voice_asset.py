"""The voice asset on a hand-made warehouse: it reads the staging models, writes both voice tables."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.understand.voice import voice_tables
from dagster_project.resources import KizunaSettings


@pytest.fixture
def warehouse_path(tmp_path, monkeypatch):
    path = tmp_path / "kizuna.duckdb"
    monkeypatch.setenv("KIZUNA_WAREHOUSE_PATH", str(path))
    con = duckdb.connect(str(path))
    con.execute("create schema staging")
    con.execute("""create table staging.stg_surveys__responses as select * from (values
        ('r1', timestamptz '2026-05-01 09:00:00+00', 3, '配送が予定より遅れました。', 'ja'),
        ('r2', timestamptz '2026-05-01 10:00:00+00', 10, 'The store staff were very kind.', 'en'),
        ('r3', timestamptz '2026-05-01 11:00:00+00', 8, '', 'ja'),
        ('r4', timestamptz '2026-05-01 12:00:00+00', 7, null, 'en')
        ) as t(response_id, submitted_at, nps, comment, language)""")
    con.execute("""create table staging.stg_helpdesk__ticket_events as select * from (values
        ('e1', 'T1', 'opened', timestamptz '2026-05-02 09:00:00+00', 'アプリがすぐに強制終了します。'),
        ('e2', 'T1', 'updated', timestamptz '2026-05-02 10:00:00+00', '配送業者に確認しております。'),
        ('e3', 'T1', 'resolved', timestamptz '2026-05-02 11:00:00+00', 'Done.')
        ) as t(ticket_event_id, ticket_id, ticket_event_type, occurred_at, comment)""")
    con.close()
    return path


def test_voice_asset_writes_signals_and_themes(warehouse_path):
    result = dg.materialize([voice_tables], resources={"kizuna": KizunaSettings()})
    assert result.success
    metadata = {m.asset_key.to_user_string(): m.metadata
                for m in result.asset_materializations_for_node("voice_tables")}
    assert metadata["voice/comment_signals"]["dagster/row_count"].value == 3
    con = duckdb.connect(str(warehouse_path), read_only=True)
    rows = con.sql("select source, record_id, ticket_id, language, sentiment_label, themes "
                   "from voice.comment_signals order by record_id").fetchall()
    assert rows == [
        ("support_tickets", "e1", "T1", "ja", "negative", "app"),
        ("survey_responses", "r1", None, "ja", "negative", "delivery"),
        ("survey_responses", "r2", None, "en", "positive", "staff"),
    ]
    assert con.sql("select count(*) from voice.comment_themes").fetchone()[0] == 3
