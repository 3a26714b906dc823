"""The contact centre, NPS surveys, reviews and referrals: where experiences become opinions.

Tickets are opened by what went wrong (scheduled by `fulfilment` and `visits`); slow or curt
handling is itself an experience. Survey scores are drawn from the person's real recent
experiences, so NPS, its comment themes and later churn all tell the same story.
"""

from __future__ import annotations

import numpy as np

from kizuna.sample_world import rates
from kizuna.sample_world.accounts import consent
from kizuna.sample_world.catalog import N_AGENTS
from kizuna.sample_world.clock import DAY_S, LATEST_SESSION_START, day_seconds
from kizuna.sample_world.marketing import FLAG_REFERRAL, FLAG_REVIEW, SOURCE_ORGANIC, Seeds
from kizuna.sample_world.state import DRIVERS, State

# How much each recent experience lowers a survey score (NPS points per unit of experience).
NPS_WEIGHTS = np.array([
    {"late_delivery": 1.1, "untracked_shipment": 0.6, "lost_parcel": 1.8, "product_quality": 1.2,
     "payment_failure": 0.5, "poor_support": 1.4, "unresolved_ticket": 1.8, "app_bugs": 0.8,
     "price_increase": 0.7, "detractor": 0.0, "competitor": 0.6}[d] for d in DRIVERS
], np.float32)
POSITIVE_THEMES = ("good_staff", "fast_delivery", "product_quality_good", "app_easy", "price_value")
PRIORITY_BY_CATEGORY = np.array([2, 2, 1, 1, 0, 1, 0, 0])  # low, normal, high, urgent = 0..3
RANDOM_TICKET_DAILY = 0.0002


def tickets(s: State, d: int) -> None:
    """Open the tickets due today and decide how they will be handled."""
    rng = s.rng
    # Questions nobody planned for: accounts, stores, everything else.
    asking = np.flatnonzero(s.registered & (rng.random(s.n) < RANDOM_TICKET_DAILY))
    if len(asking):
        m = len(asking)
        s.cal.add("ticket", np.full(m, d), person=asking, category=rng.choice([4, 6, 7], size=m),
                  reason=np.zeros(m, np.int64), order=np.full(m, -1), t=rng.integers(9 * 3600, 20 * 3600, m))
    due = s.cal.pop(d, "ticket")
    if due is None:
        return
    persons, category, order, tod = due["person"], due["category"], due["order"], due["t"]
    k = len(persons)
    ids = s.next_ticket + np.arange(k)
    s.next_ticket += k
    agent = rng.integers(0, N_AGENTS, k)
    poor = s.catalog.agent_poor[agent]
    channel = np.where(category == 6, 3, rng.choice(3, size=k, p=[0.35, 0.3, 0.35]))
    priority = np.minimum(PRIORITY_BY_CATEGORY[category] + (rng.random(k) < 0.1), 3)
    unresolved = rng.random(k) < rates.UNRESOLVED_TICKET_RATE * np.where(poor, 2.0, 1.0)
    res_days = np.where(poor, 1.5 + rng.exponential(3.0, k), rng.exponential(0.5, k))
    open_t = d * DAY_S + tod
    resolve_t = np.where(unresolved, -1, open_t + (res_days * DAY_S).astype(np.int64) + 600)
    csat = np.clip(np.round(4.6 - 0.35 * np.minimum(res_days, 8) - 1.6 * poor + rng.normal(0, 0.7, k)
                            - 0.4 * np.isin(category, (0, 2))), 1, 5).astype(np.int64)
    n_updates = rng.integers(0, 3, k) + (poor | unresolved)
    s.logs["tickets"].add(ticket=ids, person=persons, category=category, reason=due["reason"], order=order,
                          channel=channel,
                          priority=priority, agent=agent, open_t=open_t, resolve_t=resolve_t, csat=csat,
                          n_updates=n_updates)
    s.ticket_csat.extend(csat.tolist())
    s.active(persons, d)
    resolved_day = resolve_t // DAY_S
    slow = res_days > 4
    bad = ~unresolved & ((csat <= 2) | slow)
    s.experience_at(resolved_day[bad], persons[bad], "poor_support", 1.0)
    both = bad & (csat <= 2) & slow
    s.experience_at(resolved_day[both], persons[both], "poor_support", 0.5)
    s.experience_at(np.full(int(unresolved.sum()), d + 7), persons[unresolved], "unresolved_ticket")
    chase = n_updates >= 2
    s.experience_at(np.full(int(chase.sum()), d + 2), persons[chase], "poor_support", 0.3)
    invite = ~unresolved & (rng.random(k) < 0.6)
    s.cal.add("survey", resolved_day[invite] + 1, person=persons[invite],
              touchpoint=np.ones(int(invite.sum()), np.int64), ref=ids[invite])
    opt_out = rng.random(k) < 0.03
    if opt_out.any():
        m = int(opt_out.sum())
        consent(s, persons[opt_out], open_t[opt_out] + 600, "sms_marketing", np.zeros(m, bool), "contact_centre")
    s.counters["tickets"] += k


def _themes(s: State, persons: np.ndarray, nps: np.ndarray, touchpoint: np.ndarray) -> list[str]:
    """Comment themes: the experiences that pulled the score down, or what pleased a promoter."""
    contrib = s.exp[persons] * NPS_WEIGHTS
    out = []
    rng = s.rng
    for j in range(len(persons)):
        if nps[j] >= 9:
            pool = list(POSITIVE_THEMES)
            if touchpoint[j] != 3:
                pool.remove("good_staff")
            if s.good_staff_day[persons[j]] >= 0 and touchpoint[j] == 3:
                out.append("good_staff")
                continue
            out.append(pool[int(rng.integers(len(pool)))])
            continue
        order = np.argsort(-contrib[j])
        themes = [DRIVERS[i] for i in order[:2] if contrib[j, i] > 0.25 and DRIVERS[i] != "competitor"]
        if not themes:
            themes = ["price" if s.people.price_sensitivity[persons[j]] > 0.6 else "product_range"]
        out.append("|".join(themes))
    return out


def surveys(s: State, d: int) -> None:
    """Survey answers due today: a score from the person's real experiences, and themes."""
    rng = s.rng
    due = s.cal.pop(d, "survey")
    parts = [due] if due is not None else []
    if d in (int(0.25 * s.days), int(0.75 * s.days)):
        # Relationship survey waves to a sample of everybody the survey tool can reach.
        wave = np.flatnonzero(rng.random(s.n) < 0.3)
        parts.append({"person": wave, "touchpoint": np.full(len(wave), 2), "ref": np.full(len(wave), -1)})
    if not parts:
        return
    persons = np.concatenate([x["person"] for x in parts])
    touchpoint = np.concatenate([x["touchpoint"] for x in parts])
    ref = np.concatenate([x["ref"] for x in parts])
    reachable = s.registered[persons] | (s.card_gives_email[persons] & s.card_signed[persons])
    respond = reachable & (rng.random(len(persons)) < rates.SURVEY_RESPONSE_RATE
                           * np.where(s.churned[persons], 0.4, 1.0) * np.where(touchpoint == 1, 1.2, 1.0))
    persons, touchpoint, ref = persons[respond], touchpoint[respond], ref[respond]
    k = len(persons)
    if k == 0:
        return
    csat = np.array([s.ticket_csat[r] if tp == 1 else 3.5
                     for r, tp in zip(ref.tolist(), touchpoint.tolist(), strict=True)])
    staff = (touchpoint == 3) & ((d - s.good_staff_day[persons]) <= 3)
    sat = (8.3 + s.satisfaction_bias[persons] - s.exp[persons] @ NPS_WEIGHTS
           + 1.0 * staff + 0.8 * (csat - 3.5) + rng.normal(0, 1.0, k))
    nps = np.clip(np.round(sat), 0, 10).astype(np.int64)
    themes = _themes(s, persons, nps, touchpoint)
    t = d * DAY_S + rng.integers(9 * 3600, 23 * 3600, k)
    s.logs["surveys"].add(person=persons, t=t, touchpoint=touchpoint, nps=nps,
                          themes=np.array(themes, dtype=object), comment=rng.random(k) < 0.75,
                          staff=staff)
    s.active(persons, d)
    promoters = persons[nps >= 9]
    s.last_promoter[promoters] = d
    s.experience(persons[nps <= 6], "detractor")
    _maybe_refer(s, d, promoters)


def _maybe_refer(s: State, d: int, persons: np.ndarray) -> None:
    online = persons[~s.people.is_store_only[persons] & s.registered[persons]]
    refer = online[s.rng.random(len(online)) < 0.25]
    s.cal.add("referral", d + s.rng.integers(1, 11, len(refer)), person=refer)


def opinion_sessions(s: State, d: int) -> Seeds:
    """Reviews and referrals due today, as sessions to open (they are web/app events)."""
    rng = s.rng
    parts = []
    due = s.cal.pop(d, "review")
    if due is not None:
        keep = (~s.churned[due["person"]] | (rng.random(len(due["person"])) < 0.3)) & s.registered[due["person"]]
        persons = due["person"][keep]
        bad = due["bad"][keep] | (s.score()[persons] > 2.0)
        k = len(persons)
        rating = np.where(bad, rng.integers(1, 3, k), np.where(rng.random(k) < 0.7, 5, 4))
        refs = len(s.reviews) + np.arange(k)
        s.reviews.extend(zip(due["order"][keep].tolist(), due["product"][keep].tolist(), rating.tolist(), strict=True))
        s.last_promoter[persons[rating >= 4]] = d
        _maybe_refer(s, d, persons[rating == 5])
        parts.append(Seeds.make(persons, day_seconds(rng, k, LATEST_SESSION_START), SOURCE_ORGANIC,
                                flag=FLAG_REVIEW, ref=refs))
    due = s.cal.pop(d, "referral")
    if due is not None:
        persons = np.unique(due["person"][~s.churned[due["person"]]])
        s.last_promoter[persons] = d
        parts.append(Seeds.make(persons, day_seconds(rng, len(persons), LATEST_SESSION_START), SOURCE_ORGANIC,
                                flag=FLAG_REFERRAL))
    return Seeds.concat(parts) if parts else Seeds.empty()

