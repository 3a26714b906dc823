"""The tracking plan as the sample world implements it: event names, session blocks, pages.

`TRACKING_PLAN` is the events contract's enum; the other names a session can emit (page,
identify, and a few unplanned track events) are listed beside it.
"""

from __future__ import annotations

SITE = "https://www.kizuna-retail.example"
PAGE, IDENTIFY = "page", "identify"
UNPLANNED = "unplanned"
UNPLANNED_NAMES = ("Wishlist Added", "Size Guide Viewed", "Store Locator Used")
BUGGY_UNPLANNED = "product_viewed"  # app 5.2.0 double-tracks product views in snake case
TRACKING_PLAN = (
    "Products Searched", "Product List Viewed", "Product Viewed", "Product Added", "Product Removed",
    "Cart Viewed", "Checkout Started", "Checkout Step Completed", "Payment Info Entered", "Payment Failed",
    "Order Completed", "Order Refunded", "Coupon Applied", "Signed Up", "Logged In", "Logged Out",
    "Push Notification Received", "Push Notification Tapped", "Application Opened", "Application Installed",
    "Review Submitted", "Referral Sent",
)
# (block, event kinds in order; a block repeats its kinds when its count is larger)
BLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("install", ("Application Installed",)),
    ("push", ("Push Notification Received", "Push Notification Tapped")),
    ("opened", ("Application Opened",)),
    ("landing", (PAGE,)),
    ("signup", (IDENTIFY, "Signed Up")),
    ("login", (IDENTIFY, "Logged In")),
    ("pages", (PAGE,)),
    ("search", ("Products Searched",)),
    ("list", ("Product List Viewed",)),
    ("pv", (PAGE, "Product Viewed")),
    ("unplanned", (UNPLANNED,)),
    ("add", ("Product Added",)),
    ("cartview", ("Cart Viewed",)),
    ("remove", ("Product Removed",)),
    ("coupon", ("Coupon Applied",)),
    ("checkout", ("Checkout Started", "Checkout Step Completed", "Checkout Step Completed", "Payment Info Entered")),
    ("payfail", ("Payment Failed",)),
    ("payretry", ("Payment Info Entered",)),
    ("order", ("Order Completed",)),
    ("review", ("Review Submitted",)),
    ("referral", ("Referral Sent",)),
    ("logout", ("Logged Out",)),
)
BLOCK = {name: b for b, (name, _) in enumerate(BLOCKS)}
LANDING = BLOCK["landing"]
KINDS = (PAGE, IDENTIFY, UNPLANNED) + TRACKING_PLAN
KIND = {k: i for i, k in enumerate(KINDS)}
PAGE_MENU = (("/sale", "セール", "Sale"), ("/magazine/style-note", "スタイルノート", "Magazine"),
             ("/stores", "店舗検索", "Store Locator"), ("/help", "ヘルプ", "Help"),
             ("/mypage/orders", "注文履歴", "Order Status"))
PAYMENT_METHODS = ("credit_card", "paypay", "konbini", "apple_pay")
FAIL_REASONS = ("card_declined", "timeout", "3ds_failed")
