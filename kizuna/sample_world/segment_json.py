"""Segment-spec JSON for the expanded events: context, properties, traits, one line per event.

The only per-event Python loop of the generator lives here. Random draws are made for the whole
window up front (compact arrays); lines are then serialized for any batch of events (one arrival
day at a time), each session's static context serialized once per batch (an `orjson.Fragment`).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import orjson

from kizuna.sample_world.catalog import (
    AD_CHANNEL_SPECS,
    AD_CHANNELS,
    APP_NAME,
    APP_VERSIONS,
    BUGGY_APP_VERSION,
    CATEGORIES,
    OFFERS,
)
from kizuna.sample_world.clock import iso_utc
from kizuna.sample_world.devices import SPECS
from kizuna.sample_world.marketing import CAMPAIGNS, SOURCE_EMAIL, SOURCE_PUSH, email_campaign_id
from kizuna.sample_world.people import EMAIL_KIND_P
from kizuna.sample_world.state import State
from kizuna.sample_world.text import SEARCH_QUERIES
from kizuna.sample_world.tracking_plan import (
    BLOCK,
    BUGGY_UNPLANNED,
    FAIL_REASONS,
    IDENTIFY,
    KIND,
    KINDS,
    LANDING,
    PAGE,
    PAGE_MENU,
    PAYMENT_METHODS,
    SITE,
    UNPLANNED,
    UNPLANNED_NAMES,
)


def _session_context(s: State, sess: dict[str, np.ndarray], start: date, i: int) -> bytes:
    """Static Segment context of one session; a web one ends in ',"page":' awaiting the page."""
    dv = s.devices
    dev = int(sess["device"][i])
    form, os_name, os_ver, manu, model, _browser, ua = SPECS[int(dv.spec[dev])]
    person = int(sess["person"][i])
    src = int(sess["source"][i])
    campaign = None
    if 1 <= src <= len(AD_CHANNELS):
        spec = AD_CHANNEL_SPECS[AD_CHANNELS[src - 1]]
        campaign = {"source": spec[0], "medium": spec[1], "name": CAMPAIGNS[int(sess["campaign"][i])][1]}
    elif src == SOURCE_EMAIL:
        campaign = {"source": "newsletter", "medium": "email",
                    "name": email_campaign_id(int(sess["campaign"][i]), start)}
    elif src == SOURCE_PUSH:
        campaign = {"source": "push", "medium": "push", "name": f"push_{int(sess['day'][i]):03d}"}
    if sess["app"][i]:
        version, build, _ = APP_VERSIONS[int(sess["version"][i])]
        ctx = {
            "channel": "app",
            "app": {"name": APP_NAME, "version": version, "build": build, "namespace": "jp.example.kizuna"},
            "device": {"id": dv.device_id[dev], "type": "ios" if os_name in ("iOS", "iPadOS") else "android",
                       "manufacturer": manu, "model": model},
            "os": {"name": os_name, "version": os_ver},
            "userAgent": f"{APP_NAME}/{version} ({model}; {os_name} {os_ver})",
            "library": {"name": "analytics-ios" if manu == "Apple" else "analytics-android", "version": "1.5.11"},
            "locale": "ja-JP", "timezone": "Asia/Tokyo", "ip": dv.ip[dev],
        }
        if campaign:
            ctx["campaign"] = campaign
        return orjson.dumps(ctx)
    ctx = {
        "channel": "web",
        "device": {"type": form, "manufacturer": manu, "model": model} if manu else {"type": form},
        "os": {"name": os_name, "version": os_ver},
        "userAgent": ua,
        "library": {"name": "analytics.js", "version": "npm:next-1.72.0"},
        "locale": "ja-JP", "timezone": "Asia/Tokyo", "ip": dv.ip[dev],
        "consent": {"categoryPreferences": {
            "analytics": bool(s.analytics_ok[person]), "personalization": bool(s.personal_ok[person]),
            "advertising": bool(s.ad_ok[person])}},
    }
    if campaign:
        ctx["campaign"] = campaign
    return orjson.dumps(ctx)[:-1] + b',"page":'


def _small(a: np.ndarray) -> np.ndarray:
    """The same integers in the narrowest of int8/int16/int32/int64 that holds them (less memory)."""
    a = np.asarray(a)
    if a.size == 0 or a.dtype.kind not in "iu":
        return a
    lo, hi = int(a.min()), int(a.max())
    for t in (np.int8, np.int16, np.int32):
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            return a.astype(t)
    return a


class Serializer:
    """Serializes any subset of the window's events, in any order, into JSON lines.

    Every random draw is made up front (in the order the generator has always made them) and kept
    in compact arrays; per-event and per-session Python objects only exist for the events asked
    for, so a day's file can be serialized when it is written instead of holding every line.
    """

    def __init__(self, s, sess, start, rng, ev_s, ev_b, ev_w, kind, product, quantity, price, logged, stamp, sent,
                 received, orders, lines, order_of_sess):
        self.s, self.sess, self.start = s, sess, start
        E = len(ev_s)
        S = len(sess["id"])
        # Random draws, in their historical order: message ids, focus categories, landing coins,
        # identify e-mail variants, coins, picks.
        self.mids = np.frombuffer(rng.bytes(16 * E), np.uint8).reshape(E, 16)
        self.focus = _small(rng.integers(0, len(CATEGORIES), S))
        self.landing_coin = rng.random(S)
        self.email_kind = _small(rng.choice(len(EMAIL_KIND_P), size=E, p=EMAIL_KIND_P))
        self.coin = rng.random(E)
        self.pick = _small(rng.integers(0, 1 << 30, E))
        self.ev_s = _small(ev_s)
        self.ev_b = _small(ev_b)
        self.ev_w = _small(ev_w)
        self.kind = _small(kind)
        self.product = _small(product)
        self.quantity = _small(quantity)
        self.price = _small(price)
        self.logged = logged
        self.stamp, self.sent, self.received = stamp, sent, received
        self.order_of_sess = order_of_sess
        cart_value = np.zeros(S)
        addm = kind == KIND["Product Added"]
        np.add.at(cart_value, ev_s[addm], price[addm] * quantity[addm])
        self.cart_value = cart_value
        # The first product viewed in each session (ad landing pages point at it).
        pv = np.flatnonzero(kind == KIND["Product Viewed"])
        first_sess, first_at = np.unique(ev_s[pv], return_index=True)
        self.has_first_pv = np.zeros(S, bool)
        self.has_first_pv[first_sess] = True
        self.first_pv = np.full(S, -1, np.int64)
        self.first_pv[first_sess] = product[pv[first_at]]
        self.order_props = _order_properties(s, orders, lines)
        # Identifiers sent in identify traits (the truth needs them before any line is written).
        self.emails_used: set[str] = set()
        self.phones_used: set[str] = set()
        persons = sess["person"]
        for e in np.flatnonzero(kind == KIND[IDENTIFY]).tolist():
            email, phone = self._contact(int(persons[ev_s[e]]), int(self.email_kind[e]), float(self.coin[e]),
                                         int(self.pick[e]))
            if email is not None:
                self.emails_used.add(email)
            if phone is not None:
                self.phones_used.add(phone)

    def _contact(self, person: int, email_kind: int, coin: float, pick: int) -> tuple[str | None, str | None]:
        """(email, phone) in the traits of an identify event."""
        p = self.s.people
        email = p.email_variants[person][email_kind] if p.email_variants[person] else None
        phone = p.phone_variants[person][pick % 3] if p.phone_variants[person] and coin < 0.5 else None
        return email, phone

    def _pid(self, x: int) -> str | None:
        return self.s.catalog.product_id[x] if x >= 0 else None

    def _landing_page(self, i: int) -> tuple:
        """(path with query, title, screen name, referrer, landing url) of session i."""
        sess, start = self.sess, self.start
        c = int(sess["source"][i])
        referrer = ""
        if 1 <= c <= len(AD_CHANNELS):
            ch = AD_CHANNELS[c - 1]
            utm_source, utm_medium, param, host = AD_CHANNEL_SPECS[ch][:4]
            name = CAMPAIGNS[int(sess["campaign"][i])][1]
            query = f"?utm_source={utm_source}&utm_medium={utm_medium}&utm_campaign={name}"
            click = int(sess["click"][i])
            if click >= 0:
                query += f"&{param}={self.s.click_ids[click]}"
            target = (f"/products/{self._pid(int(self.first_pv[i]))}" if sess["shop"][i] and self.has_first_pv[i]
                      else f"/lp/{name}")
            path, title, screen = target + query, "Kizuna", "Home"
            referrer = f"https://{host}/"
        elif c == SOURCE_EMAIL:
            campaign = email_campaign_id(int(sess["campaign"][i]), start)
            path = f"/?utm_source=newsletter&utm_medium=email&utm_campaign={campaign}"
            title, screen = "Kizuna", "Home"
        else:
            coin = float(self.landing_coin[i])
            path, title, screen = "/", "Kizuna オンラインストア", "Home"
            referrer = ("https://www.google.com/" if coin < 0.4 else
                        "https://search.yahoo.co.jp/" if coin < 0.55 else "")
        return (path, title, screen, referrer, SITE + path.split("?")[0])

    def lines(self, idx: np.ndarray) -> list[bytes]:
        """The JSON lines of events idx, in that order."""
        s, sess = self.s, self.sess
        p, dv, cat = s.people, s.devices, s.catalog
        idx = np.asarray(idx, np.int64)
        if len(idx) == 0:
            return []
        ev_s_a = self.ev_s[idx].astype(np.int64)
        h = self.mids[idx].tobytes().hex()
        mids = [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-4{h[i + 13:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
                for i in range(0, 32 * len(idx), 32)]
        del h
        ts = iso_utc(self.stamp[idx], "ms").tolist()
        sa = iso_utc(self.sent[idx], "ms").tolist()
        ra = iso_utc(self.received[idx], "ms").tolist()
        product = self.product[idx].tolist()
        pid = [cat.product_id[x] if x >= 0 else None for x in product]
        pname = [cat.name[x] if x >= 0 else None for x in product]
        pcat = [CATEGORIES[cat.category[x]] if x >= 0 else None for x in product]
        price_l = self.price[idx].tolist()
        qty_l = self.quantity[idx].tolist()
        kinds = [KINDS[k] for k in self.kind[idx].tolist()]
        email_kind = self.email_kind[idx].tolist()
        coin = self.coin[idx].tolist()
        pick = self.pick[idx].tolist()
        ev_b = self.ev_b[idx].tolist()
        ev_w = self.ev_w[idx].tolist()
        logged = self.logged[idx].tolist()
        # Per-session values, for the sessions of these events only.
        app_sess: dict[int, bool] = {}
        anon_s: dict[int, str] = {}
        user_s: dict[int, str] = {}
        persons: dict[int, int] = {}
        refs: dict[int, int] = {}
        version: dict[int, int] = {}
        buggy: dict[int, bool] = {}
        focus_cat: dict[int, str] = {}
        landing: dict[int, tuple] = {}
        checkout_id: dict[int, str] = {}
        contexts: dict[int, bytes] = {}
        app_ctx: dict[int, orjson.Fragment | None] = {}
        order_of_sess: dict[int, int] = {}
        cart_value: dict[int, float] = {}
        Fragment = orjson.Fragment
        for si in np.unique(ev_s_a).tolist():
            a = bool(sess["app"][si])
            app_sess[si] = a
            anon_s[si] = dv.anonymous_ids[int(sess["anon"][si])]
            person = int(sess["person"][si])
            persons[si] = person
            user_s[si] = p.user_id[person]
            refs[si] = int(sess["ref"][si])
            v = int(sess["version"][si])
            version[si] = v
            buggy[si] = v == BUGGY_APP_VERSION
            focus_cat[si] = CATEGORIES[int(self.focus[si])]
            landing[si] = self._landing_page(si)
            checkout_id[si] = f"CK{int(sess['id'][si]):09d}"
            contexts[si] = ctx = _session_context(s, sess, self.start, si)
            app_ctx[si] = Fragment(ctx) if a else None
            order_of_sess[si] = int(self.order_of_sess[si])
            cart_value[si] = float(self.cart_value[si])
        order_props = self.order_props
        dumps = orjson.dumps
        buffer = bytearray()
        bounds = [0]
        for e, si in enumerate(ev_s_a.tolist()):
            k = kinds[e]
            is_app = app_sess[si]
            msg = {"messageId": mids[e]}
            path, title, screen = landing[si][:3] if ev_b[e] == LANDING else (None, None, None)
            props: dict | None = None
            if k == PAGE:
                if path is None:
                    if ev_b[e] == BLOCK["pv"]:
                        path, title, screen = f"/products/{pid[e]}", pname[e], "Product Detail"
                    else:
                        menu = PAGE_MENU[pick[e] % len(PAGE_MENU)]
                        if pick[e] % 3 == 0:
                            path, title, screen = f"/c/{focus_cat[si]}", focus_cat[si], "Category"
                        else:
                            path, title, screen = menu
                if is_app:
                    msg["type"] = "screen"
                    msg["name"] = screen
                    props = {"name": screen}
                    if pid[e]:
                        props["product_id"] = pid[e]
                else:
                    msg["type"] = "page"
                    msg["name"] = title
            elif k == IDENTIFY:
                msg["type"] = "identify"
                person = persons[si]
                fam, giv = p.names(person)
                romaji = coin[e] < 0.3
                email, phone = self._contact(person, email_kind[e], coin[e], pick[e])
                traits = {"email": email, "firstName": giv[2] if romaji else giv[0],
                          "lastName": fam[2] if romaji else fam[0]}
                if email is None:
                    del traits["email"]
                if phone is not None:
                    traits["phone"] = phone
                msg["traits"] = traits
                path, title = ("/signup", "会員登録") if ev_b[e] == BLOCK["signup"] else ("/login", "ログイン")
            else:
                msg["type"] = "track"
                if k == UNPLANNED:
                    k = BUGGY_UNPLANNED if (is_app and buggy[si]) else UNPLANNED_NAMES[pick[e] % len(UNPLANNED_NAMES)]
                    props = {"product_id": pid[e], "category": pcat[e]}
                    path, title = f"/products/{pid[e]}", pname[e]
                elif k == "Product Viewed":
                    props = {"product_id": pid[e], "category": pcat[e], "name": pname[e], "price": price_l[e],
                             "currency": "JPY"}
                    path, title = f"/products/{pid[e]}", pname[e]
                elif k in ("Product Added", "Product Removed"):
                    props = {"product_id": pid[e], "category": pcat[e], "price": price_l[e], "quantity": qty_l[e],
                             "cart_id": checkout_id[si]}
                    path, title = f"/products/{pid[e]}", pname[e]
                elif k == "Products Searched":
                    q = SEARCH_QUERIES[focus_cat[si]]
                    props = {"query": q[pick[e] % len(q)]}
                    path, title = "/search", "検索結果"
                elif k == "Product List Viewed":
                    props = {"list_id": focus_cat[si], "category": focus_cat[si]}
                    path, title = f"/c/{focus_cat[si]}", focus_cat[si]
                elif k == "Cart Viewed":
                    props = {"cart_id": checkout_id[si]}
                    path, title = "/cart", "カート"
                elif k == "Coupon Applied":
                    offer = OFFERS[refs[si]]
                    props = {"cart_id": checkout_id[si], "coupon_id": offer.offer_id, "coupon_name": offer.name}
                    path, title = "/cart", "カート"
                elif k == "Checkout Started":
                    props = {"checkout_id": checkout_id[si], "value": int(cart_value[si]), "currency": "JPY"}
                    path, title = "/checkout", "ご注文手続き"
                elif k == "Checkout Step Completed":
                    props = {"checkout_id": checkout_id[si], "step": 1 + (ev_w[e] == 2)}
                    path, title = "/checkout", "ご注文手続き"
                elif k == "Payment Info Entered":
                    props = {"checkout_id": checkout_id[si], "step": 3,
                             "payment_method": PAYMENT_METHODS[pick[e] % len(PAYMENT_METHODS)]}
                    path, title = "/checkout", "ご注文手続き"
                elif k == "Payment Failed":
                    reason = "app_error" if (is_app and buggy[si]) else FAIL_REASONS[pick[e] % len(FAIL_REASONS)]
                    props = {"checkout_id": checkout_id[si], "reason": reason}
                    path, title = "/checkout", "ご注文手続き"
                elif k == "Order Completed":
                    props = dict(order_props[order_of_sess[si]])
                    props["checkout_id"] = checkout_id[si]
                    path, title = "/checkout/complete", "ご注文完了"
                elif k == "Review Submitted":
                    o, _prod, rating = s.reviews[refs[si]]
                    props = {"product_id": pid[e], "order_id": f"O{o:09d}", "rating": rating}
                    path, title = f"/products/{pid[e]}/review", "レビュー"
                elif k == "Referral Sent":
                    props = {"channel": "line" if coin[e] < 0.6 else "email", "referral_code": f"R{persons[si]:07d}"}
                    path, title = "/mypage/referral", "友だち紹介"
                elif k in ("Application Opened", "Application Installed"):
                    v, b, _ = APP_VERSIONS[version[si]]
                    props = {"version": v, "build": b}
                    if k == "Application Opened":
                        props["from_background"] = coin[e] < 0.4
                elif k in ("Push Notification Received", "Push Notification Tapped"):
                    props = {"campaign_name": f"push_{int(sess['day'][si]):03d}"}
                elif k == "Signed Up":
                    props = {"method": "email"}
                    path, title = "/signup", "会員登録"
                elif k == "Logged In":
                    props = {"method": "email" if coin[e] < 0.8 else "line"}
                    path, title = "/login", "ログイン"
                else:  # Logged Out
                    props = {}
                    path, title = "/mypage", "マイページ"
                msg["event"] = k
            msg["anonymousId"] = anon_s[si]
            if logged[e]:
                msg["userId"] = user_s[si]
            msg["timestamp"] = ts[e]
            msg["sentAt"] = sa[e]
            msg["receivedAt"] = ra[e]
            if is_app:
                msg["context"] = app_ctx[si]
            else:
                if path is None:
                    path, title = "/", "Kizuna"
                url = SITE + path
                referrer = landing[si][3] if ev_b[e] == LANDING else landing[si][4]
                page = {"path": path.split("?")[0], "url": url, "referrer": referrer, "title": title}
                if "?" in path:
                    page["search"] = "?" + path.split("?", 1)[1]
                msg["context"] = Fragment(contexts[si] + dumps(page) + b"}")
                if k == PAGE:
                    props = page
            if props is not None:
                msg["properties"] = props
            # One buffer for the batch: orjson over-allocates each output, so bytes objects held
            # straight from dumps would cost kilobytes per line.
            buffer += dumps(msg)
            bounds.append(len(buffer))
        view = memoryview(buffer)
        return [bytes(view[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _order_properties(s: State, orders: dict, lines: dict | None) -> list[dict]:
    """Order Completed properties per order: revenue is the sum of (price x quantity - discount)."""
    if lines is None or not len(orders["order"]):
        return []
    cat = s.catalog
    props: list[dict] = [{} for _ in range(len(orders["order"]))]
    products: list[list[dict]] = [[] for _ in range(len(orders["order"]))]
    revenue = np.zeros(len(orders["order"]), np.int64)
    discount = np.zeros(len(orders["order"]), np.int64)
    for o, prod, q, pr, disc in zip(lines["order"].tolist(), lines["product"].tolist(), lines["qty"].tolist(),
                                    lines["price"].tolist(), lines["discount"].tolist(), strict=True):
        products[o].append({"product_id": cat.product_id[prod], "category": CATEGORIES[cat.category[prod]],
                            "price": pr, "quantity": q})
        revenue[o] += pr * q - disc
        discount[o] += disc
    offers = orders["offer"].tolist()
    for o in range(len(props)):
        d = {"order_id": f"O{o:09d}", "revenue": int(revenue[o]), "discount": int(discount[o]), "currency": "JPY",
             "products": products[o]}
        if offers[o] >= 0:
            d["coupon"] = OFFERS[offers[o]].offer_id
        props[o] = d
    return props

