"""Segment-spec JSON for the expanded events: context, properties, traits, one line per event.

The only per-event Python loop of the generator lives here; everything it needs is prepared as
lists first, and each session's static context is serialized once (an `orjson.Fragment`).
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


def _session_contexts(s: State, sess: dict[str, np.ndarray], start: date) -> list[bytes]:
    """Static Segment context per session; web ones end in ',"page":' awaiting the page."""
    dv = s.devices
    out = []
    for i in range(len(sess["id"])):
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
            out.append(orjson.dumps(ctx))
        else:
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
            out.append(orjson.dumps(ctx)[:-1] + b',"page":')
    return out


def serialize(s, sess, start, rng, ev_s, ev_b, ev_w, kind, product, quantity, price, logged, stamp, sent,
               received, orders, lines, order_of_sess):
    """One JSON line per event (the only per-event Python loop)."""
    p, dv, cat = s.people, s.devices, s.catalog
    E = len(ev_s)
    mids = _message_ids(rng, E)
    ts = iso_utc(stamp, "ms").tolist()
    sa = iso_utc(sent, "ms").tolist()
    ra = iso_utc(received, "ms").tolist()
    contexts = _session_contexts(s, sess, start)
    app_sess = sess["app"].tolist()
    anon_s = [dv.anonymous_ids[a] for a in sess["anon"].tolist()]
    user_s = [p.user_id[i] for i in sess["person"].tolist()]
    pid = [cat.product_id[x] if x >= 0 else None for x in product.tolist()]
    pname = [cat.name[x] if x >= 0 else None for x in product.tolist()]
    pcat = [CATEGORIES[cat.category[x]] if x >= 0 else None for x in product.tolist()]
    focus_cat = [CATEGORIES[int(c)] for c in rng.integers(0, len(CATEGORIES), len(sess["id"]))]
    price_l = price.tolist()
    qty_l = quantity.tolist()
    kinds = [KINDS[k] for k in kind.tolist()]
    landing = _landing_pages(s, sess, start, rng, pid, ev_s, kind)
    checkout_id = [f"CK{int(i):09d}" for i in sess["id"].tolist()]
    cart_value = np.zeros(len(sess["id"]))
    addm = kind == KIND["Product Added"]
    np.add.at(cart_value, ev_s[addm], price[addm] * quantity[addm])
    order_props = _order_properties(s, orders, lines)
    version = sess["version"].tolist()
    buggy = [v == BUGGY_APP_VERSION for v in version]
    email_kind = rng.choice(len(EMAIL_KIND_P), size=E, p=EMAIL_KIND_P).tolist()
    coin = rng.random(E).tolist()
    pick = rng.integers(0, 1 << 30, E).tolist()
    persons = sess["person"].tolist()
    refs = sess["ref"].tolist()
    emails_used: set[str] = set()
    phones_used: set[str] = set()
    dumps = orjson.dumps
    Fragment = orjson.Fragment
    buffer = bytearray()
    starts: list[int] = []
    ends: list[int] = []
    app_ctx = [Fragment(c) if a else None for c, a in zip(contexts, app_sess, strict=True)]
    ev_b = ev_b.tolist()
    ev_w = ev_w.tolist()
    order_of_sess = order_of_sess.tolist()
    logged = logged.tolist()
    for e, si in enumerate(ev_s.tolist()):
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
            traits = {"email": p.email_variants[person][email_kind[e]] if p.email_variants[person] else None,
                      "firstName": giv[2] if romaji else giv[0], "lastName": fam[2] if romaji else fam[0]}
            if traits["email"] is None:
                del traits["email"]
            else:
                emails_used.add(traits["email"])
            if p.phone_variants[person] and coin[e] < 0.5:
                traits["phone"] = p.phone_variants[person][pick[e] % 3]
                phones_used.add(traits["phone"])
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
        starts.append(len(buffer))
        buffer += dumps(msg)
        ends.append(len(buffer))
    return buffer, np.array(starts, np.int64), np.array(ends, np.int64), emails_used, phones_used


def _message_ids(rng: np.random.Generator, n: int) -> list[str]:
    h = rng.bytes(16 * n).hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-4{h[i + 13:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * n, 32)]


def _landing_pages(s, sess, start, rng, pid, ev_s, kind) -> list[tuple]:
    """(path with query, title, screen name, referrer, landing url) per session."""
    out = []
    first_pv_pid: dict[int, str] = {}
    pvk = KIND["Product Viewed"]
    for e in np.flatnonzero(kind == pvk).tolist():
        first_pv_pid.setdefault(int(ev_s[e]), pid[e])
    src = sess["source"].tolist()
    camp = sess["campaign"].tolist()
    click = sess["click"].tolist()
    shop = sess["shop"].tolist()
    coin = rng.random(len(src)).tolist()
    click_ids = s.click_ids
    for i in range(len(src)):
        c = src[i]
        referrer = ""
        if 1 <= c <= len(AD_CHANNELS):
            ch = AD_CHANNELS[c - 1]
            utm_source, utm_medium, param, host = AD_CHANNEL_SPECS[ch][:4]
            name = CAMPAIGNS[camp[i]][1]
            query = f"?utm_source={utm_source}&utm_medium={utm_medium}&utm_campaign={name}"
            if click[i] >= 0:
                query += f"&{param}={click_ids[click[i]]}"
            target = f"/products/{first_pv_pid[i]}" if shop[i] and i in first_pv_pid else f"/lp/{name}"
            path, title, screen = target + query, "Kizuna", "Home"
            referrer = f"https://{host}/"
        elif c == SOURCE_EMAIL:
            path = f"/?utm_source=newsletter&utm_medium=email&utm_campaign={email_campaign_id(camp[i], start)}"
            title, screen = "Kizuna", "Home"
        else:
            path, title, screen = "/", "Kizuna オンラインストア", "Home"
            referrer = ("https://www.google.com/" if coin[i] < 0.4 else
                        "https://search.yahoo.co.jp/" if coin[i] < 0.55 else "")
        out.append((path, title, screen, referrer, SITE + path.split("?")[0]))
    return out


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

