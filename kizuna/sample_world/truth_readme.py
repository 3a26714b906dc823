"""The README written into the truth folder: every file, every column, the exact semantics."""

from __future__ import annotations

from kizuna.sample_world import rates
from kizuna.sample_world.catalog import APP_VERSIONS, PRICE_INCREASE_CATEGORIES
from kizuna.sample_world.simulate import (
    AT_RISK_AFTER,
    CONSIDERATION_DAYS,
    LAPSED_AFTER,
    ONBOARDING_DAYS,
    PROMOTER_DAYS,
    PURCHASE_DAYS,
)
from kizuna.sample_world.state import FAST_HALF_LIFE_DAYS

_EFFECTS = "\n".join(f"| {c} | {v} |" for c, v in rates.CHANNEL_EFFECTS.items())
_WEIGHTS = ", ".join(f"{k} {v}" for k, v in rates.EXPERIENCE_WEIGHTS.items())
_FILES = "\n".join("| " + " | ".join(row) + " |" for row in (
    ("file", "grain", "what"),
    ("---", "---", "---"),
    ("persons.parquet", "one row per person",
     "who the person is (names in kanji, kana, romaji; birth date, gender, postcode, prefecture), persona, "
     "value segment, store-only or not, devices, household (shared tablet), shared-email group, language, "
     "registration, latent traits"),
    ("identifiers.parquet", "one row per (person, namespace, raw value)",
     "every identifier value a person uses **as it appears in the landing files**, its normalized form, "
     "`shared`, `note`, `sources`"),
    ("stages.parquet", "one row per person per day", "the journey stage at the end of that day"),
    ("churn.parquet", "one row per person", "customer or not, churned, churn date, drivers, purchase days"),
    ("experiences.parquet", "one row per person",
     "total amount of each experience (driver) the person lived through in the window"),
    ("channel_effects.csv", "one row per channel",
     "the planted incremental effect of each marketing channel, and what it produced"),
    ("offers.csv", "one row per offer", "offer definitions (OF001...)"),
    ("offer_responses.parquet", "one row per (person, offer) exposed",
     "exposure day and channel, the true response probability, clicked, responded"),
    ("mess.json", "per source and per kind of mess",
     "stated rate and injected count; lines written, broken, duplicates, unplanned events"),
))
_DECAY_PCT = int(round((1 - rates.CHURN_ACTIVITY_DECAY) * 100))

README = f"""# Sample-world truth

What really happened in the sample world whose landing files sit next door. The pipeline never
reads this folder; tests and benchmarks score the pipeline against it. Everything is generated
by `kizuna sample-world` (`kizuna.sample_world.generate`) and is byte-identical for the same
arguments.

Conventions: a *day* is a business day in Asia/Tokyo (`date` columns, and `d` below, count from
the first day of the window); landing timestamps are UTC with `Z` (two stores, see mess.json,
export local time with `+09:00`); money is JPY. The world starts on the first day of the window:
purchases, stages and experiences count from then on (contacts and loyalty members created
earlier are in the first day's export, but nobody has bought anything in the window yet).

## Files

{_FILES}

## persons.parquet

`person_id` (PS000001...), `last_name`/`first_name` (kanji), `*_kana` (katakana), `*_romaji`
(Hepburn without macrons), `birth_date`, `gender` (female, male, other), `postcode` (NNN-NNNN),
`prefecture`, `persona` (trend_follower, bargain_hunter, family_shopper, beauty_regular,
outdoor_enthusiast, occasional_browser, store_loyalist, omni_regular), `value_segment` (tertile
of purchase propensity: low, mid, high), `is_store_only` (known only in stores, by loyalty card),
`has_app`, `has_web`, `n_devices`, `has_loyalty_card` (a card signed up by the end of the window),
`household_id` (persons sharing a family tablet), `shared_email_group` (persons using one info@
address), `language` (ja, en: the language of their comments), `registered_on` (web/app sign-up
day in the window), `registered_before_window`, and the latent traits that drive behaviour:
`activity` (sessions per day while considering), `purchase_propensity`, `price_sensitivity`,
`competitor_lured_on` (the one churn driver the data cannot show).

## identifiers.parquet

Namespaces: `anonymous_id` (web cookie or app install's Segment anonymousId), `device_id` (app
device id, `context.device.id`), `user_id` (web/app login id), `crm_id`, `email`, `phone`,
`loyalty_card_id`. Only values that appear in at least one valid landing record are listed
(broken copies are left out), under every person who uses them.

* `value`: exactly as a source recorded it (case, surrounding spaces, gmail dots, +tags and
  googlemail.com, phone as 090-1234-5678, 09012345678 or +81 90 1234 5678).
* `normalized`: emails trimmed and lower-cased, and for gmail.com/googlemail.com the domain
  gmail.com with dots and the +tag removed from the local part; phones in E.164 (+8190...);
  other namespaces unchanged. Two different normalized emails of one person are two addresses
  (e.g. a one-letter typo in a duplicate CRM record: `note` = typo; it bounces).
* `shared`: the value is used by several persons (a family tablet's cookies and device id, an
  info@ company address). A shared value must never merge those persons.
* `note`: shared, shared_device, duplicate_record (the second CRM contact of a person), typo.
* `sources`: the landing sources the value appears in (`;`-separated).

## stages.parquet: the journey stage (the latent state that drives behaviour)

Each person's stage is a Markov state: yesterday's stage sets today's behaviour (how often the
person visits, whether sessions show product interest, which ads target them, how likely they
buy: rates.STAGE_ACTIVITY, STAGE_SHOP_SESSION, marketing.TARGETING, simulate.purchase_hazard),
and today's behaviour moves the stage by the rules below. Transitions are driven by marketing
touches (planted channel effects, offers, abandoned-cart and email triggers) and by experiences
(late parcels, poor support, app bugs, price rises...), which lower engagement and purchases and
raise churn. Because every transition happens through observable behaviour, the stage of a
person-day is a function of the person's data up to that day:

Definitions (per person, day `d`, everything by business day, all days up to `d` included):
* **purchase day**: a day with a web/app order whose status is not `cancelled` (orders), or a
  store transaction carrying the person's loyalty card (pos_transactions).
* **consideration signal**: a web/app track event showing product interest: Products Searched,
  Product List Viewed, Product Viewed, Product Added, Product Removed, Cart Viewed, Coupon
  Applied, Checkout Started, Checkout Step Completed, Payment Info Entered, Payment Failed, Order
  Completed (every such session has at least one Product Viewed).
* **promoter signal**: an NPS response of 9 or 10, a Review Submitted event with rating >= 4, or
  a Referral Sent event.
* **activity**: any web/app event of the person (anonymous ones on their cookies and devices
  included), an order, a store transaction with their card, a support ticket they opened, a
  survey response. Email deliveries and opens, ad impressions and offer exposures are not
  activity (email and ad clicks always open a web/app session, which is).

Stage at the end of day `d`, first rule that applies:
1. no purchase day yet: **consideration** if a consideration signal in the last
   {CONSIDERATION_DAYS} days (d-{CONSIDERATION_DAYS - 1}..d), else **awareness** (the person may only
   have seen ads or anonymous pages, or nothing at all yet);
2. **purchase**: a purchase day in the last {PURCHASE_DAYS} days (d-{PURCHASE_DAYS - 1}..d);
3. **onboarding**: exactly one purchase day so far, the first purchase in the last
   {ONBOARDING_DAYS} days (days 3..{ONBOARDING_DAYS - 1} after it: the first {ONBOARDING_DAYS} days of use);
4. **advocacy**: last purchase less than {AT_RISK_AFTER} days ago and a promoter signal in the last
   {PROMOTER_DAYS} days;
5. **retention**: last purchase less than {AT_RISK_AFTER} days ago (a repeat buyer, or a first-time
   buyer past onboarding);
6. **at_risk**: {AT_RISK_AFTER}+ days without a purchase, some activity in the last {LAPSED_AFTER} days
   (activity falls: at-risk people visit at {rates.STAGE_ACTIVITY['at_risk']} of their considering rate);
7. **lapsed**: a customer with no activity for {LAPSED_AFTER}+ days.

Signatures in the data: awareness = ad impressions, landing and content pages only; consideration
= product views, searches, carts without orders; purchase = an order (or till receipt) that day
or the two before; onboarding = app installs, order tracking, welcome emails, reviews; retention
= regular visits and repeat orders; advocacy = NPS 9-10, reviews, referrals; at_risk = falling
visits, win-back emails and offers; lapsed = nothing but undelivered/unopened marketing.

## churn.parquet

`customer`: at least one purchase day in the window. `churned`: the customer decided to leave
on `churn_date`; from then on their visits fall by {_DECAY_PCT}% a day and they almost never
buy (which is what turns them at_risk, then lapsed). Daily churn hazard of a customer:

    {rates.CHURN_BASE_HAZARD} * exp({rates.CHURN_SCORE_SLOPE} * min(score, 4)) * engagement_risk

where `score` sums, over drivers, weight x (slow decay - fast decay) of the experiences lived:
each experience weighs most about five weeks after it happened (half-lives
{rates.EXPERIENCE_HALF_LIFE_DAYS} and {FAST_HALF_LIFE_DAYS} days), so people drift away some time after what went wrong;
weights: {_WEIGHTS}. `engagement_risk` is higher for light users (median activity / own
activity, between 0.3 and 4). `drivers` lists the drivers whose contribution was >= 0.3 when
the person left, largest first; `low_engagement` (a light user with no such driver) or
`no_clear_driver` otherwise.

Where each driver shows in the landing data: late_delivery (shipments: `delivered` after
`promised_date`, often a delivery ticket, sometimes a late_delivery refund), untracked_shipment
(shipments without `tracking_number`), lost_parcel (`returned_to_sender`, full refund),
product_quality (refunds `damaged`/`wrong_item`, product_quality/returns tickets, low review
ratings), payment_failure (`Payment Failed` events, payment tickets), poor_support (tickets with
CSAT <= 2, resolution after more than 4 days, repeated updates), unresolved_ticket (opened, not
resolved 7 days later), app_bugs (app version {APP_VERSIONS[1][0]} in `context.app.version`, `Payment Failed`
reason app_error, app_bug tickets), price_increase (bought {', '.join(PRICE_INCREASE_CATEGORIES)} before the
catalog's second file raised those prices), detractor (NPS <= 6), competitor (not in the data).
The same experiences lower NPS right away (comment themes name them) and reduce visits and
purchases. Purchase propensity follows the latent propensity (frequency), recent sessions
(engagement), abandoned carts ({rates.CART_ABANDON_BOOST} extra daily hazard for 3 days), email clicks
and the channel effects below.

## experiences.parquet

Per person and driver, the total amount lived in the window (1 per late parcel, 0.5 per app
session that hit the bug, 0.5-1.5 for the price rise, 0.3 per chased ticket...).

## channel_effects.csv

Planted incremental effect of a click (ads, email) or a tap (push): an additive daily purchase
hazard during the {rates.CHANNEL_EFFECT_DAYS} days after the touch (several channels add up; a churned person
gets a tenth). Impressions have no effect. Ad exposure follows the person's stage (prospecting
channels chase prospects, search follows intent, retargeting follows recent visitors and
abandoned carts), so naive last-touch attribution overstates search and retargeting.

| channel | effect_per_day |
|---|---|
{_EFFECTS}

Columns: `touches` (clicks or taps), `exposed_person_days` (person-days inside an effect
window), `expected_incremental_conversions` (sum of the effect over exposed person-days),
`attributed_conversions` (over actual purchases, each channel's effect / the purchase's total
hazard), `spend_jpy` (ads: impressions at CPM/1000, clicks at CPC).

## offers.csv and offer_responses.parquet

Offers OF001-OF0NN: `kind` (percent_off: value is the share; yen_off: yen off the first
matching line; free_shipping; points: multiplier), `category` (or all), `target` (prospects,
customers, at_risk, all), `channels`. A person meets each offer at most once (offer_events:
exposed, then clicked and redeemed, or dismissed). `p_response` is the true probability of a
redemption: sigmoid of category affinity (what they browse and buy), discount depth x price
sensitivity (sale pages, coupons), a purchase in the last 30 days, log purchase count, a
win-back offer to an at-risk person, the channel (app > web > email) and churn, times 0.55.
`responded` = redeemed: an order with the offer's `offer_id` on its lines that day.

## mess.json

Per source: `lines_written` (data lines of JSONL/CSV files, rows of Parquet files, exactly as
the ingest counts `read`), `broken` (extra copies with a fresh key, each breaking one rule the
contract enforces with error severity: unparseable JSON line, wrong number of CSV fields,
required field missing, wrong type, out of range (negative price, NPS 11, CSAT 6, a year-2199
timestamp, a positive refund), impossible date (2026-02-30), pattern violation), `duplicates`
(exact re-sends of an earlier valid record, same dedup key, in the same file or one of the next
two; never broken), `unplanned_events` (valid track events whose name is not in the tracking
plan, e.g. `Wishlist Added`, `product_viewed` from app {APP_VERSIONS[1][0]}: kept and reported). `mess` lists each kind
with its stated rate (kizuna/sample_world/rates.py) and injected count, including late
arrivals (records in a file 1-3 days after their event time), clock skew, local-time POS
exports and the schema drift of support_tickets (a `sentiment_hint` column from the day named
in `schema_drift_from` on). `identity` covers cookie resets, app reinstalls, email and phone
variants, duplicate CRM records, shared tablets, shared info@ addresses, store-only members
with an email, skewed device clocks.

Every landing source has one file per arrival day named as its contract's `location` says
(empty days give an empty JSONL file or a header-only CSV), except the product catalog: a full
export on the first day and the changed and new products on the price-change day.
"""
