import pandas as pd

from kizuna.identity import parse_rules, resolve
from tests.identity.conftest import CONFIG, observations


def person(result, namespace, value):
    m = result.identity_map
    return m.loc[(m["namespace"] == namespace) & (m["value"] == value), "person_id"].item()


def test_records_stitch_across_sources_through_normalized_values(rules):
    obs = observations([
        ("events", "e1", "anonymous_id", "a1"), ("events", "e1", "user_id", "U1"),
        ("events", "e2", "user_id", "U1"), ("events", "e2", "email", "Taro.Yamada+x@googlemail.com"),
        ("crm_contacts", "c1", "crm_id", "C1000001"), ("crm_contacts", "c1", "email", " taroyamada@gmail.com"),
        ("crm_contacts", "c1", "phone", "090-1234-5678"),
        ("tickets", "t1", "phone", "+81 90 1234 5678"),
    ])
    result = resolve(obs, rules)
    assert result.identity_map["person_id"].nunique() == 1
    row = result.identity_map[result.identity_map["namespace"] == "phone"].iloc[0]
    assert row["value"] == "+819012345678" and len(row["value_hash"]) == 64
    assert result.records["person_id"].nunique() == 1


def test_family_tablet_cookie_and_device_never_merge_two_users(rules):
    obs = observations([
        ("events", "e1", "anonymous_id", "tablet"), ("events", "e1", "device_id", "D-TAB"),
        ("events", "e1", "user_id", "U1"),
        ("events", "e2", "anonymous_id", "tablet"), ("events", "e2", "device_id", "D-TAB"),
        ("events", "e2", "user_id", "U2"),
        ("events", "e3", "anonymous_id", "phone-of-1"), ("events", "e3", "user_id", "U1"),
    ])
    result = resolve(obs, rules)
    assert person(result, "user_id", "U1") != person(result, "user_id", "U2")
    assert person(result, "anonymous_id", "phone-of-1") == person(result, "user_id", "U1")
    flags = result.flags.set_index("value")["reason"]
    assert set(flags.index) == {"tablet", "D-TAB"}
    assert "2 user_id values" in flags["tablet"]
    assert result.identity_map.set_index("value").loc["tablet", "is_shared"]


def _crm(crm_id, email, name, kana, birth):
    return ("crm_contacts", crm_id, crm_id, email, name, kana, birth)


def _crm_inputs(contacts):
    obs = observations([(s, r, "crm_id", c) for s, r, c, *_ in contacts]
                       + [(s, r, "email", e) for s, r, _, e, *_ in contacts])
    attrs = pd.DataFrame([{"namespace": "crm_id", "value_raw": c, "name_key": n, "name_kana_key": k,
                           "birth_date": b} for _, _, c, _, n, k, b in contacts])
    return obs, attrs


def test_info_address_never_merges_different_crm_contacts(rules):
    obs, attrs = _crm_inputs([
        _crm("C0000001", "info@acme.example.jp", "上野浩", "ウエノヒロシ", "1988-05-11"),
        _crm("C0000002", "info@acme.example.jp", "宮崎京子", "ミヤザキキョウコ", "1976-12-26"),
        _crm("C0000003", "Info@ACME.example.jp ", "工藤涼介", "クドウリョウスケ", "1994-01-08"),
    ])
    result = resolve(obs, rules, attributes=attrs)
    crm = result.identity_map[result.identity_map["namespace"] == "crm_id"]
    assert crm["person_id"].nunique() == 3
    assert "3 crm_id values" in result.flags.set_index("value").loc["info@acme.example.jp", "reason"]


def test_duplicate_crm_record_of_one_person_is_allowed_by_the_multiple_rule(rules):
    obs, attrs = _crm_inputs([
        _crm("C0000001", "aya@example.jp", "村田彩", "ムラタアヤ", "1990-01-02"),
        _crm("C0000002", "aya@example.jp", "村田彩", "ムラタアヤ", "1990-01-02"),
    ])
    assert resolve(obs, rules, attributes=attrs).identity_map["person_id"].nunique() == 1
    # Without attributes nothing proves they are one person: the limit of one crm_id holds.
    assert resolve(obs, rules).identity_map["person_id"].nunique() == 3


def test_limit_holds_through_a_chain_of_weak_identifiers(rules):
    obs = observations([
        ("events", "e1", "anonymous_id", "a1"), ("events", "e1", "user_id", "U1"),
        ("ads", "t1", "anonymous_id", "a1"), ("ads", "t1", "device_id", "D1"),
        ("events", "e2", "device_id", "D1"), ("events", "e2", "user_id", "U2"),
    ])
    result = resolve(obs, rules)
    assert person(result, "user_id", "U1") != person(result, "user_id", "U2")
    assert result.stats["constrained_components"] == 1
    assert len(result.flags) == 1


def test_overrides(raw_rules):
    raw_rules["overrides"] = {
        "force_merge": [{"a": "user_id:U1", "b": "user_id:U2", "reason": "same person, ticket 7"}],
        "never_merge": [{"a": "email:x@example.jp", "b": "phone:090-1111-2222", "reason": "reused number"}],
        "unmerge": [{"identifier": "anonymous_id:kiosk", "reason": "store kiosk"}],
    }
    rules = parse_rules(raw_rules, str(CONFIG), phone_region="JP")
    obs = observations([
        ("events", "e1", "user_id", "U1"), ("events", "e2", "user_id", "U2"),
        ("tickets", "t1", "email", "x@example.jp"), ("tickets", "t1", "phone", "09011112222"),
        ("events", "e3", "anonymous_id", "kiosk"), ("events", "e3", "user_id", "U1"),
    ])
    result = resolve(obs, rules)
    assert person(result, "user_id", "U1") == person(result, "user_id", "U2")
    assert person(result, "email", "x@example.jp") != person(result, "phone", "+819011112222")
    assert person(result, "anonymous_id", "kiosk") != person(result, "user_id", "U1")
    assert "unmerge override: store kiosk" in result.flags["reason"].tolist()
    assert result.links["kind"].tolist() == ["force_merge"]


def test_probabilistic_edges_above_the_threshold_link_and_keep_their_weight(rules):
    obs = observations([
        ("loyalty_members", "L1", "loyalty_card_id", "L0000000001"),
        ("crm_contacts", "c1", "crm_id", "C0000001"),
        ("crm_contacts", "c2", "crm_id", "C0000002"),
    ])
    edges = pd.DataFrame({"source_l": ["loyalty_members", "loyalty_members"], "record_id_l": ["L1", "L1"],
                          "source_r": ["crm_contacts", "crm_contacts"], "record_id_r": ["c1", "c2"],
                          "match_weight": [12.5, 3.0]})
    result = resolve(obs, rules, extra_edges=edges)
    assert person(result, "loyalty_card_id", "L0000000001") == person(result, "crm_id", "C0000001")
    assert person(result, "crm_id", "C0000002") != person(result, "crm_id", "C0000001")
    assert result.links["match_weight"].tolist() == [12.5]
