"""Every rate and planted effect of the sample world, in one module.

The truth folder's `mess.json` repeats the mess rates stated here next to the counts actually
injected, so a reader can check one against the other; the README of the truth folder explains
the behavioural constants. Change a number here and both follow.
"""

from __future__ import annotations

# --- Who the customers are ---------------------------------------------------------------------

# Share of persons known only in stores (loyalty card, no web/app account).
STORE_ONLY_SHARE = 0.13
# Store-only members who give an email address at loyalty sign-up (the only bridge to email).
STORE_ONLY_EMAIL_RATE = 0.35
# Online persons who also shop in stores with a loyalty card.
OMNI_CARD_SHARE = 0.22
# Omni card holders who link the card to their CRM contact (the store <-> online bridge).
CARD_LINKED_IN_CRM_RATE = 0.6
# Online persons who already have an account (user id, CRM contact) when the window opens.
PRE_REGISTERED_SHARE = 0.45
# Share of online persons with the app installed; share of those who also browse the web.
APP_SHARE = 0.45
APP_ALSO_WEB_SHARE = 0.65
# Share of web users with a second browser (desktop + phone).
SECOND_BROWSER_SHARE = 0.3
# Households sharing one family tablet (both members log in with their own user id) per 10k.
SHARED_TABLET_HOUSEHOLDS_PER_10K = 8
# Small companies whose staff all use one info@ address, per 10k persons (2-4 persons each).
SHARED_INFO_GROUPS_PER_10K = 5
# Persons who write English (comments, survey answers) rather than Japanese.
ENGLISH_SPEAKER_SHARE = 0.18

# --- Identifier mess ---------------------------------------------------------------------------

# Daily probability that a browser loses its cookie (a new anonymous id). Safari's tracking
# prevention caps first-party cookies, so mobile Safari resets far more often.
COOKIE_RESET_DAILY = {"safari": 0.01, "other": 0.003}
# Daily probability that an app is reinstalled (new app anonymous id, same device id).
APP_REINSTALL_DAILY = 0.001
# How an email address is typed when a source records it (shares of records, raw variants).
EMAIL_VARIANT_SHARES = {
    "as_registered": 0.62,
    "upper_case": 0.12,
    "surrounding_space": 0.08,
    "gmail_dots": 0.08,  # only gmail.com addresses: dots moved or dropped
    "gmail_plus_tag": 0.06,  # only gmail.com addresses: name+shop@gmail.com
    "googlemail": 0.04,  # only gmail.com addresses: @googlemail.com
}
# How a phone number is written (shares of records).
PHONE_FORMAT_SHARES = {"dashed": 0.5, "plain": 0.3, "international": 0.2}
# Persons whose CRM holds a second, typo-ridden contact record (contact centre, store sign-up),
# and what goes wrong in that record (shares of duplicate records).
CRM_DUPLICATE_RATE = 0.03
CRM_DUPLICATE_FLAWS = {"swapped_kana": 0.4, "email_typo": 0.6, "missing_phone": 0.5}
# Devices whose clock is off (timestamp and sentAt shifted by minutes to hours).
CLOCK_SKEW_DEVICE_RATE = 0.04
CLOCK_SKEW_MAX_HOURS = 6.0  # never more than 24 h ahead, as the spec promises

# --- Landing mess, per source (share of records) -------------------------------------------------

# Records deliberately broken so that the contract quarantines them (extra copies with a fresh key).
BROKEN_RATE = {
    "events": 0.003,
    "crm_contacts": 0.006,
    "orders": 0.005,
    "email_events": 0.004,
    "support_tickets": 0.008,
    "survey_responses": 0.008,
    "pos_transactions": 0.005,
    "loyalty_members": 0.008,
    "ad_touchpoints": 0.004,
    "consent_events": 0.006,
    "products": 0.008,
    "shipments": 0.005,
    "refunds": 0.01,
    "offer_events": 0.005,
}
# Exact re-sends of an earlier valid record (same dedup key), in the same or a later file.
DUPLICATE_RATE = {
    "events": 0.008,  # Segment retries
    "crm_contacts": 0.004,
    "orders": 0.003,
    "email_events": 0.006,  # webhook retries
    "support_tickets": 0.004,
    "survey_responses": 0.004,
    "pos_transactions": 0.004,
    "loyalty_members": 0.004,
    "ad_touchpoints": 0.004,
    "consent_events": 0.004,
    "products": 0.004,
    "shipments": 0.005,
    "refunds": 0.005,
    "offer_events": 0.004,
}
# Small sources still get one broken record and one duplicate from this many records on, so
# that every ingest path is exercised even in a tiny world.
MIN_MESS_RECORDS = 20
# Valid track events whose name is not in the tracking plan (kept and reported by the ingest).
UNPLANNED_EVENT_RATE = 0.003
# Records that arrive 1-3 days after their event time (offline app batches, late store uploads).
LATE_ARRIVAL_RATE = {"events": 0.02, "pos_transactions": 0.01, "email_events": 0.004}
# Stores whose till exports local time with a +09:00 offset instead of UTC 'Z' (still valid).
LOCAL_TIME_STORES = ("S007", "S019")
# support_tickets gains a `sentiment_hint` column from this share of the window on (schema drift).
SCHEMA_DRIFT_AT = 2 / 3

# --- Behaviour: activity -------------------------------------------------------------------------

# Session intensity multiplier by stage (see stages.STAGES for the order).
STAGE_ACTIVITY = {
    "awareness": 0.09,
    "consideration": 1.0,
    "purchase": 1.3,
    "onboarding": 0.9,
    "retention": 0.65,
    "advocacy": 0.9,
    "at_risk": 0.3,
    "lapsed": 0.02,
}
# Probability that a session shows product interest (views, search, cart) by stage.
STAGE_SHOP_SESSION = {
    "awareness": 0.22,
    "consideration": 0.85,
    "purchase": 0.5,
    "onboarding": 0.6,
    "retention": 0.7,
    "advocacy": 0.7,
    "at_risk": 0.55,
    "lapsed": 0.5,
}
# After the churn decision activity falls by this factor per day.
CHURN_ACTIVITY_DECAY = 0.93

# --- Behaviour: purchase -------------------------------------------------------------------------

# Daily first-purchase hazard of a considering prospect (times the person's propensity).
PROSPECT_PURCHASE_HAZARD = 0.014
# Impulse purchase hazard of a prospect still in awareness.
AWARENESS_PURCHASE_HAZARD = 0.0004
# Daily repeat-purchase hazard of a customer (times propensity and persona frequency).
REPEAT_PURCHASE_HAZARD = 0.011
# Extra hazard while a cart was abandoned in the last 3 days.
CART_ABANDON_BOOST = 0.05
# Days after a purchase during which a repeat purchase is unlikely.
REFRACTORY_DAYS = 5
# Share of orders cancelled by the fraud check (not a purchase; no shipment).
ORDER_CANCEL_RATE = 0.01
# Checkout sessions with a failed payment before the order goes through.
PAYMENT_FAIL_RATE = 0.04

# Planted incremental effect on conversion of a click (ads), a click (email) or a tap (push):
# an additive daily purchase hazard during the 7 days after the touch. Impressions have none.
CHANNEL_EFFECTS = {
    "paid_search": 0.030,
    "paid_social": 0.009,
    "display": 0.0005,
    "video": 0.004,
    "affiliate": 0.014,
    "line": 0.018,
    "retargeting": 0.002,
    "influencer": 0.022,
    "email": 0.012,
    "push": 0.006,
}
CHANNEL_EFFECT_DAYS = 7

# --- Behaviour: experiences and churn -------------------------------------------------------------

# Delivery.
LATE_DELIVERY_RATE = 0.09
UNTRACKED_SHIPMENT_RATE = 0.04
RETURNED_TO_SENDER_RATE = 0.008
DAMAGED_ITEM_RATE = 0.03
WRONG_ITEM_RATE = 0.01
SIZE_RETURN_RATE = 0.06  # apparel and shoes only
CHANGED_MIND_RATE = 0.015
LATE_REFUND_RATE = 0.2  # late deliveries compensated with a partial refund
# Share of agents who are slow and curt (long resolution, low CSAT).
POOR_AGENT_SHARE = 0.25
UNRESOLVED_TICKET_RATE = 0.08

# Experience weights (added to a per-person score that decays with this half-life in days).
EXPERIENCE_HALF_LIFE_DAYS = 75
EXPERIENCE_WEIGHTS = {
    "late_delivery": 1.0,
    "untracked_shipment": 0.7,
    "lost_parcel": 1.5,
    "product_quality": 1.0,
    "payment_failure": 0.45,
    "poor_support": 1.4,
    "unresolved_ticket": 1.6,
    "app_bugs": 0.8,
    "price_increase": 0.8,
    "detractor": 0.9,
    "competitor": 1.0,
}
# Daily churn hazard of a customer without bad experiences, and its growth per point of score.
CHURN_BASE_HAZARD = 0.00004
CHURN_SCORE_SLOPE = 2.2
# Persons lured by a competitor at some point (the one churn driver the data cannot show).
COMPETITOR_SHARE = 0.03

# --- Behaviour: messages -------------------------------------------------------------------------

EMAIL_CAMPAIGN_EVERY_DAYS = 4
EMAIL_AUDIENCE_SHARE = 0.5
PUSH_CAMPAIGN_EVERY_DAYS = 5
OFFER_EXPOSURE_RATE = 0.1  # per person-day with a session or an email
SURVEY_RESPONSE_RATE = 0.25
