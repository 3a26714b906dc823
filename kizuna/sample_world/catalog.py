"""What the brand sells and runs: products and their price changes, stores, offers, campaigns.

Nothing here depends on the number of customers, so the catalog is the same size in every world:
what scales with customers x days is behaviour, not reference data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kizuna.sample_world.names import STORE_CITIES
from kizuna.sample_world.rates import POOR_AGENT_SHARE

CATEGORIES = ("apparel", "shoes", "bags", "accessories", "beauty", "home", "kids", "outdoor")

# category -> (number of products, [(subcategory, Japanese label, low price, high price)])
_ASSORTMENT: dict[str, tuple[int, list[tuple[str, str, int, int]]]] = {
    "apparel": (220, [("t_shirt", "Tシャツ", 1990, 4990), ("shirt", "シャツ", 3990, 8990),
                      ("knit", "ニット", 4990, 12900), ("dress", "ワンピース", 5990, 15900),
                      ("pants", "パンツ", 3990, 9990), ("jacket", "ジャケット", 8990, 24900),
                      ("coat", "コート", 12900, 39900)]),
    "shoes": (90, [("sneakers", "スニーカー", 5990, 14900), ("loafers", "ローファー", 7990, 16900),
                   ("boots", "ブーツ", 9990, 24900), ("sandals", "サンダル", 2990, 8990),
                   ("pumps", "パンプス", 5990, 13900)]),
    "bags": (70, [("tote", "トートバッグ", 2990, 9990), ("backpack", "リュック", 4990, 14900),
                  ("shoulder", "ショルダーバッグ", 3990, 12900), ("wallet", "財布", 3990, 12900)]),
    "accessories": (80, [("hat", "帽子", 1990, 5990), ("stole", "ストール", 2490, 6990),
                         ("belt", "ベルト", 2990, 7990), ("umbrella", "折りたたみ傘", 1990, 4990),
                         ("socks", "ソックス", 590, 1490)]),
    "beauty": (110, [("lotion", "化粧水", 1490, 4400), ("serum", "美容液", 2900, 8800),
                     ("lip", "リップ", 990, 3300), ("hand_cream", "ハンドクリーム", 660, 2200),
                     ("shampoo", "シャンプー", 1100, 3300)]),
    "home": (90, [("mug", "マグカップ", 990, 2490), ("towel", "タオル", 690, 3290),
                  ("cushion", "クッションカバー", 1490, 3990), ("fragrance", "ルームフレグランス", 1990, 5500),
                  ("storage", "収納ボックス", 990, 3990)]),
    "kids": (70, [("kids_tee", "キッズTシャツ", 990, 2490), ("baby", "ベビーロンパース", 1490, 3490),
                  ("kids_sneakers", "キッズスニーカー", 2990, 5990), ("kids_jacket", "キッズジャケット", 3990, 7990)]),
    "outdoor": (70, [("tent", "テント", 19800, 59800), ("rain_jacket", "レインジャケット", 9900, 29900),
                     ("trekking", "トレッキングシューズ", 12900, 29900), ("bottle", "ステンレスボトル", 1990, 4400),
                     ("chair", "アウトドアチェア", 3990, 12900)]),
}
_ADJECTIVES = ("リネン", "オーガニック", "ストレッチ", "撥水", "軽量", "ベーシック", "ワイド", "ソフト",
               "クラシック", "デイリー")
_COLOURS = ("ネイビー", "ブラック", "ホワイト", "ベージュ", "グレー", "カーキ", "ブラウン", "グリーン",
            "ブルー", "レッド")
# Products launched on the price-change day, per category (appended to each category's block).
NEW_PRODUCTS_PER_CATEGORY = 3
# Price changes on the change day: category -> (share of products, low factor, high factor).
PRICE_CHANGES = {
    "beauty": (0.45, 1.10, 1.20),
    "home": (0.40, 1.10, 1.18),
    "outdoor": (0.25, 1.06, 1.10),
    "apparel": (0.15, 0.70, 0.80),
}
PRICE_INCREASE_CATEGORIES = ("beauty", "home", "outdoor")

# Channels with planted effects: the eight paid channels of ad_touchpoints, then email and push.
AD_CHANNELS = ("paid_search", "paid_social", "display", "video", "affiliate", "line", "retargeting", "influencer")
CHANNELS = AD_CHANNELS + ("email", "push")
# Per ad channel: (utm_source, utm_medium, click-id parameter, referrer host,
#                  impression rate per prospect-day, click-through rate, CPM yen, CPC yen)
AD_CHANNEL_SPECS = {
    "paid_search": ("google", "cpc", "gclid", "www.google.com", 0.006, 0.22, 900.0, 95.0),
    "paid_social": ("instagram", "paid_social", "fbclid", "l.instagram.com", 0.030, 0.020, 450.0, 60.0),
    "display": ("yahoo_display", "display", "yclid", "www.yahoo.co.jp", 0.040, 0.006, 250.0, 45.0),
    "video": ("youtube", "video", "gclid", "www.youtube.com", 0.020, 0.012, 600.0, 55.0),
    "affiliate": ("a8net", "affiliate", "a8", "px.a8.net", 0.006, 0.08, 300.0, 120.0),
    "line": ("line", "line_ads", "ldtag_cl", "line.me", 0.020, 0.028, 500.0, 50.0),
    "retargeting": ("criteo", "retargeting", "cto_pld", "www.criteo.com", 0.040, 0.025, 350.0, 40.0),
    "influencer": ("instagram", "influencer", "ig_rid", "l.instagram.com", 0.010, 0.030, 700.0, 80.0),
}

APP_NAME = "Kizuna"
# (version, build, share of the window after which it is released); 5.2.0 ships a checkout bug
# that 5.2.1 fixes: its users see payment failures and crashes (the app_bugs churn driver).
APP_VERSIONS = (("5.1.0", "510", 0.0), ("5.2.0", "520", 0.35), ("5.2.1", "521", 0.5))
BUGGY_APP_VERSION = 1

N_AGENTS = 30


@dataclass(frozen=True)
class Offer:
    """One offer of the offer engine: kind, size and what it applies to."""

    offer_id: str
    name: str
    kind: str  # percent_off, yen_off, free_shipping, points
    value: float  # percent (0.1 = 10 %), yen, or point multiplier
    category: str  # a category, or 'all'
    target: str  # prospects, customers, at_risk, all
    channels: tuple[str, ...]


OFFERS: tuple[Offer, ...] = (
    Offer("OF001", "Welcome 10% off", "percent_off", 0.10, "all", "prospects", ("web", "app", "email")),
    Offer("OF002", "Apparel 15% off", "percent_off", 0.15, "apparel", "all", ("web", "app", "email", "line")),
    Offer("OF003", "Shoes 10% off", "percent_off", 0.10, "shoes", "all", ("web", "app", "email")),
    Offer("OF004", "Free shipping", "free_shipping", 0.0, "all", "all", ("web", "app", "line")),
    Offer("OF005", "Beauty 20% off", "percent_off", 0.20, "beauty", "customers", ("app", "email", "line")),
    Offer("OF006", "Double points week", "points", 2.0, "all", "customers", ("app", "email")),
    Offer("OF007", "Home 1,000 yen off", "yen_off", 1000.0, "home", "all", ("web", "email")),
    Offer("OF008", "Kids 15% off", "percent_off", 0.15, "kids", "all", ("web", "app", "email")),
    Offer("OF009", "Outdoor 10% off", "percent_off", 0.10, "outdoor", "customers", ("web", "app", "line")),
    Offer("OF010", "Bags 500 yen off", "yen_off", 500.0, "bags", "all", ("web", "app")),
    Offer("OF011", "We miss you: 20% off", "percent_off", 0.20, "all", "at_risk", ("email", "app", "line")),
    Offer("OF012", "Accessories 2nd item 30% off", "percent_off", 0.15, "accessories", "all", ("web", "app")),
)


@dataclass
class Catalog:
    """Products (arrays indexed by product number), stores and the price-change day."""

    product_id: list[str]
    name: list[str]
    category: np.ndarray  # int index into CATEGORIES
    subcategory: list[str]
    price_before: np.ndarray
    price_after: np.ndarray
    launched_ago: np.ndarray  # days before the window opens (negative: launched inside it)
    last_updated: np.ndarray  # seconds before the window opens of each product's last change
    is_new: np.ndarray  # launched on the change day
    cat_start: np.ndarray  # first product number of each category
    cat_base: np.ndarray  # products of each category on sale before the change day
    cat_full: np.ndarray  # ... and from the change day on
    change_day: int
    store_id: list[str]
    store_prefecture: list[str]
    store_good_staff: np.ndarray  # stores whose staff customers praise
    agent_poor: np.ndarray  # agents who are slow and curt

    def price(self, product: np.ndarray, day: np.ndarray | int) -> np.ndarray:
        """List price in yen of each product on the given day(s)."""
        return np.where(np.asarray(day) >= self.change_day, self.price_after[product], self.price_before[product])

    def sample_products(self, rng: np.random.Generator, category: np.ndarray, day: np.ndarray | int) -> np.ndarray:
        """Product numbers within the given categories, popular ones (low numbers) more often."""
        size = np.where(np.asarray(day) >= self.change_day, self.cat_full[category], self.cat_base[category])
        u = rng.random(len(category))
        # u**1.6 skews towards the first products of each block: a long tail of slow sellers.
        return self.cat_start[category] + np.minimum((size * u**1.6).astype(np.int64), size - 1)


def build_catalog(rng: np.random.Generator, days: int) -> Catalog:
    """The product catalog, the stores and the agents (a fixed size, whatever the world's size)."""
    change_day = max(1, days // 3) if days > 1 else 10**9
    pid, names, cats, subs, lo_hi, new = [], [], [], [], [], []
    cat_start, cat_base, cat_full = [], [], []
    for c, cat in enumerate(CATEGORIES):
        count, subspecs = _ASSORTMENT[cat]
        cat_start.append(len(pid))
        cat_base.append(count)
        cat_full.append(count + NEW_PRODUCTS_PER_CATEGORY)
        for i in range(count + NEW_PRODUCTS_PER_CATEGORY):
            sub, label, lo, hi = subspecs[int(rng.integers(len(subspecs)))]
            adj = _ADJECTIVES[int(rng.integers(len(_ADJECTIVES)))]
            colour = _COLOURS[int(rng.integers(len(_COLOURS)))]
            pid.append(f"P{10001 + len(pid):05d}")
            names.append(f"{adj}{label} {colour}")
            cats.append(c)
            subs.append(sub)
            lo_hi.append((lo, hi))
            new.append(i >= count)
    n = len(pid)
    lo = np.array([a for a, _ in lo_hi], float)
    hi = np.array([b for _, b in lo_hi], float)
    raw = lo + (hi - lo) * rng.random(n)
    # Japanese shelf prices end in 90 above 1,000 yen.
    price_before = np.where(raw >= 1000, np.round(raw / 100) * 100 - 10, np.round(raw / 10) * 10).astype(np.int64)
    price_after = price_before.copy()
    category = np.array(cats, np.int64)
    for cat, (share, f_lo, f_hi) in PRICE_CHANGES.items():
        c = CATEGORIES.index(cat)
        hit = (category == c) & (rng.random(n) < share)
        factor = f_lo + (f_hi - f_lo) * rng.random(n)
        changed = price_before * factor
        changed = np.where(changed >= 1000, np.round(changed / 100) * 100 - 10, np.round(changed / 10) * 10)
        price_after = np.where(hit, changed.astype(np.int64), price_after)
    launched = rng.integers(1, 7 * 365, n)  # days before the window opens
    is_new = np.array(new)
    launched_ago = np.where(is_new, -change_day, launched)
    last_updated = (rng.random(n) * np.minimum(launched, 400) * 86400).astype(np.int64) + 3600
    store_id = [f"S{i + 1:03d}" for i in range(len(STORE_CITIES))]
    good = rng.random(len(store_id)) < 0.25
    return Catalog(
        product_id=pid, name=names, category=category, subcategory=subs,
        price_before=price_before, price_after=price_after, launched_ago=launched_ago,
        last_updated=last_updated, is_new=is_new,
        cat_start=np.array(cat_start), cat_base=np.array(cat_base), cat_full=np.array(cat_full),
        change_day=change_day, store_id=store_id, store_prefecture=[p for _, p in STORE_CITIES],
        store_good_staff=good, agent_poor=rng.random(N_AGENTS) < POOR_AGENT_SHARE,
    )
