"""The voice of the customer, NPS and support delays on a small world run through main_job, scored
against the world's truth where it records it (who lived which experience, who writes in English)."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

# Negative themes of detractors' and passives' comments -> the truth's experience drivers that
# make the world write them (kizuna.sample_world.service._themes).
THEME_DRIVERS = {
    "delivery": ("late_delivery",), "tracking": ("untracked_shipment",), "lost_parcel": ("lost_parcel",),
    "product_quality": ("product_quality",), "payment": ("payment_failure",), "app": ("app_bugs",),
    "support": ("poor_support", "unresolved_ticket"), "unresolved": ("unresolved_ticket",),
}


def _truth_person_by_crm(truth) -> pd.Series:
    ids = pd.read_parquet(truth / "identifiers.parquet")
    crm = ids[ids["namespace"] == "crm_id"].drop_duplicates("normalized")
    return crm.set_index("normalized")["person_id"]


def test_every_comment_is_scored_once(understood):
    staged = understood.read("""
        select (select count(*) from staging.stg_surveys__responses where trim(coalesce(comment, '')) <> '')
             + (select count(*) from staging.stg_helpdesk__ticket_events
                where ticket_event_type = 'opened' and trim(coalesce(comment, '')) <> '') as n""")["n"][0]
    signals = understood.read("select * from voice.comment_signals")
    assert len(signals) == staged > 0
    assert not signals.duplicated(["source", "record_id"]).any()
    themes = understood.read("select * from voice.comment_themes")
    joined = signals.set_index("record_id")["theme_count"]
    assert themes.groupby("record_id").size().to_dict() == joined[joined > 0].to_dict()


def test_themes_name_experiences_the_respondent_lived(understood):
    """Precision of negative themes against the truth: a detractor or passive who complains about a
    theme lived the experience behind it in the window."""
    comments = understood.read("""
        select s.response_id, s.crm_id, n.nps_class, t.theme
        from voice.comment_themes t
        join staging.stg_surveys__responses s on s.response_id = t.record_id
        join marts.nps_responses n on n.response_id = s.response_id
        where t.source = 'survey_responses' and n.nps_class <> 'promoter' and s.crm_id is not null""")
    comments = comments[comments["theme"].isin(THEME_DRIVERS)]
    person = comments["crm_id"].map(_truth_person_by_crm(understood.truth))
    experiences = pd.read_parquet(understood.truth / "experiences.parquet").set_index("person_id")
    lived = [any(experiences.at[p, d] > 0 for d in THEME_DRIVERS[t]) for p, t in zip(person, comments["theme"],
                                                                                        strict=True)]
    precision = sum(lived) / len(lived)
    print(f"negative theme precision against truth experiences: {precision:.3f} over {len(lived)} mentions")
    assert len(lived) >= 5
    assert precision >= 0.9


def test_language_and_sentiment_against_the_truth(understood):
    scored = understood.read("""
        select c.source, c.language, e.crm_id, c.sentiment_score, c.sentiment_label, n.nps_class
        from voice.comment_signals c
        left join staging.stg_helpdesk__ticket_events e on e.ticket_event_id = c.record_id
        left join marts.nps_responses n on n.response_id = c.record_id""")
    tickets = scored[(scored["source"] == "support_tickets") & scored["crm_id"].notna()]
    persons = pd.read_parquet(understood.truth / "persons.parquet").set_index("person_id")["language"]
    truth_language = tickets["crm_id"].map(_truth_person_by_crm(understood.truth)).map(persons)
    language_agreement = (truth_language == tickets["language"]).mean()
    surveys = scored[scored["source"] == "survey_responses"]
    promoters = surveys[surveys["nps_class"] == "promoter"]
    detractors = surveys[surveys["nps_class"] == "detractor"]
    shares = {name: group["sentiment_label"].value_counts(normalize=True).to_dict()
              for name, group in (("promoters", promoters), ("detractors", detractors))}
    print(f"ticket language agreement {language_agreement:.3f} ({len(tickets)}); sentiment labels of "
          f"promoters ({len(promoters)}) {shares['promoters']}, "
          f"of detractors ({len(detractors)}) {shares['detractors']}")
    assert language_agreement >= 0.95
    # Lexicons miss praise like "Delivery was fast." (neutral), so the check is that the classes
    # separate, not that every comment is labelled like its score.
    assert promoters["sentiment_score"].mean() > detractors["sentiment_score"].mean() + 0.3
    assert shares["promoters"].get("positive", 0) > 2 * shares["promoters"].get("negative", 0)
    assert shares["detractors"].get("negative", 0) > shares["promoters"].get("negative", 0) + 0.3


def test_nps_summary_overall_is_the_staged_score(understood):
    staged = understood.read("""
        select 100.0 * (sum(case when nps >= 9 then 1 else 0 end) - sum(case when nps <= 6 then 1 else 0 end))
               / count(*) as nps, count(*) as n
        from staging.stg_surveys__responses where nps is not null""")
    summary = understood.read("select * from marts.nps_summary")
    overall = summary[summary["dimension"] == "overall"].iloc[0]
    assert overall["responses"] == staged["n"][0]
    assert overall["nps"] == pytest.approx(staged["nps"][0])
    for dimension in ("segment", "stage", "touchpoint", "language"):
        part = summary[summary["dimension"] == dimension]
        assert part["responses"].sum() == overall["responses"], dimension
    stages = set(summary.loc[summary["dimension"] == "stage", "dimension_value"])
    assert stages - {"unknown"}, "no answer found its journey stage"


def test_support_delays_one_row_per_ticket(understood):
    tickets = understood.read("select count(distinct ticket_id) as n from staging.stg_helpdesk__ticket_events")
    delays = understood.read("select * from marts.support_delays")
    assert len(delays) == tickets["n"][0] > 0
    answered = delays.dropna(subset=["first_response_hours"])
    assert (answered["first_response_hours"] > 0).all()
    resolved = delays[delays["is_resolved"]]
    assert (resolved["resolution_hours"] >= resolved["first_response_hours"]).all()
    assert (delays["resolution_breached"] == (delays["resolution_hours"] > delays["resolution_sla_hours"])
            )[delays["is_resolved"]].all()
    repeats = delays[delays["is_repeat_contact"]]
    assert repeats["repeat_of_ticket_id"].isin(delays["ticket_id"]).all()
    print(f"tickets {len(delays)}: first response breached {delays['first_response_breached'].mean():.3f}, "
          f"resolution breached {delays['resolution_breached'].mean():.3f}, repeat contacts {len(repeats)}")


def test_detractor_drivers_picture_is_attached(understood):
    drivers = understood.read("select * from marts.detractor_drivers order by driver_rank")
    assert len(drivers) > 0
    assert drivers["driver_rank"].tolist() == list(range(1, len(drivers) + 1))
    materializations = [e.event_specific_data.materialization for e in understood.result.all_events
                        if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
    pictured = [m for m in materializations if m.asset_key.path[-1] == "detractor_drivers"]
    assert pictured and "picture" in pictured[-1].metadata
    print("detractor drivers:", drivers[["theme", "lift", "detractor_mentions", "other_mentions"]].head(5)
          .to_dict("records"))
