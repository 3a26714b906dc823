"""Free text: search queries, contact-centre comments and survey comments, in Japanese and English.

Comments are assembled from short sentences chosen by what really happened to the person (the
ticket's reason, the survey's themes), so text mining can recover the drivers the truth names.
No field may hold a newline: the ingest counts CSV records as lines.
"""

from __future__ import annotations

import numpy as np

SEARCH_QUERIES = {
    "apparel": ("ワンピース", "リネンシャツ", "白 Tシャツ", "ニット", "ワイドパンツ", "linen shirt", "dress"),
    "shoes": ("スニーカー", "ローファー", "ブーツ 黒", "sneakers", "サンダル"),
    "bags": ("トートバッグ", "リュック", "財布", "backpack"),
    "accessories": ("帽子", "ストール", "折りたたみ傘", "ソックス"),
    "beauty": ("化粧水", "美容液", "リップ", "ハンドクリーム", "serum"),
    "home": ("マグカップ", "タオル", "ルームフレグランス", "収納ボックス"),
    "kids": ("キッズ Tシャツ", "ベビー", "キッズ スニーカー"),
    "outdoor": ("テント", "レインジャケット", "トレッキングシューズ", "水筒", "camp chair"),
}

# Ticket reasons (set by whatever opened the ticket) and the customer's first message.
TICKET_REASONS = ("other", "late", "untracked", "lost", "damaged", "wrong_item", "payment", "app_bug", "size")
TICKET_OPENED = {
    "other": (("会員情報の変更方法を教えてください。", "How do I change my account details?"),
              ("店舗の営業時間を知りたいです。", "What are the opening hours of the store?")),
    "late": (("注文した商品がまだ届きません。お届け予定日を過ぎています。",
              "My order has not arrived and the promised delivery date has passed."),
             ("予定日になっても荷物が届かず困っています。", "The parcel did not come on the promised day.")),
    "untracked": (("追跡番号が表示されず、配送状況が分かりません。",
                   "There is no tracking number, I cannot see where my parcel is."),),
    "lost": (("荷物が差出人に返送されたと通知が来ました。どういうことですか。",
              "I was told my parcel was returned to the sender. What happened?"),),
    "damaged": (("届いた商品が破損していました。", "The item arrived damaged."),
                ("商品に傷と汚れがありました。交換を希望します。",
                 "The product was scratched and dirty. I want a replacement.")),
    "wrong_item": (("注文と違う商品が届きました。", "I received a different item from the one I ordered."),),
    "payment": (("カード決済がエラーになり注文できませんでした。", "My card payment failed and I could not order."),),
    "app_bug": (("アプリを更新してから決済画面で落ちます。", "Since the app update it crashes at checkout."),
                ("アプリがすぐに強制終了します。", "The app keeps closing by itself.")),
    "size": (("サイズが合わなかったので返品したいです。", "The size does not fit, I would like to return it."),),
}
TICKET_AGENT_UPDATE = (("配送業者に確認しております。少々お待ちください。", "We are checking with the carrier."),
                       ("担当部署に確認中です。", "We are following up with the team in charge."))
TICKET_CUSTOMER_CHASE = (("まだ連絡がありません。どうなっていますか。", "I still have not heard back. Any update?"),
                         ("何度も問い合わせていますが回答がありません。",
                          "I have contacted you several times without an answer."))
TICKET_RESOLVED_GOOD = (("ご不便をおかけし申し訳ございません。返金手続きを完了いたしました。",
                         "We are sorry for the trouble. The refund has been issued."),
                        ("代替品を本日発送いたしました。", "A replacement was shipped today."),
                        ("ご案内の通り手続きが完了しました。ありがとうございました。",
                         "All done as explained. Thank you."))
TICKET_RESOLVED_POOR = (("対応済みです。", "Done."),
                        ("規定により対応いたしかねます。", "We cannot help with this under our policy."))

SURVEY_NEGATIVE = {
    "late_delivery": ("配送が予定より遅れました。", "Delivery was late."),
    "untracked_shipment": ("追跡番号がなく不安でした。", "There was no tracking number, which was stressful."),
    "lost_parcel": ("荷物が届かず返送されてしまいました。", "My parcel never arrived and went back to the sender."),
    "product_quality": ("商品の品質にがっかりしました。", "The product quality was disappointing."),
    "payment_failure": ("決済エラーが何度も出ました。", "Payment kept failing."),
    "poor_support": ("問い合わせの対応が遅く、態度も悪かったです。", "Customer support was slow and rude."),
    "unresolved_ticket": ("問い合わせがまだ解決していません。", "My support request is still not resolved."),
    "app_bugs": ("アプリが不安定でよく落ちます。", "The app is buggy and crashes."),
    "price_increase": ("値上げが残念です。", "The recent price increase is disappointing."),
    "price": ("もう少し安いと嬉しいです。", "Prices are a bit high."),
    "product_range": ("欲しいサイズや色が少ないです。", "Not enough sizes and colours."),
}
SURVEY_POSITIVE = {
    "good_staff": ("店員さんがとても親切でした。", "The store staff were very kind."),
    "fast_delivery": ("配送が早くて助かりました。", "Delivery was fast."),
    "product_quality_good": ("品質が良く気に入っています。", "Great quality, I love it."),
    "app_easy": ("アプリが使いやすいです。", "The app is easy to use."),
    "price_value": ("価格以上の価値があります。", "Good value for the price."),
}


def pick(rng: np.random.Generator, options: tuple[tuple[str, str], ...], english: bool) -> str:
    """One sentence from (ja, en) pairs, in the person's language."""
    ja, en = options[int(rng.integers(len(options)))]
    return en if english else ja


def survey_comment(themes: str, nps: int, english: bool) -> str:
    """A comment whose sentiment follows the score and whose content follows the themes."""
    parts = [t for t in themes.split("|") if t]
    if nps >= 9:
        text = " ".join(SURVEY_POSITIVE.get(t, SURVEY_POSITIVE["price_value"])[int(english)] for t in parts)
        return text or ("Great shop." if english else "いつも満足しています。")
    body = " ".join(SURVEY_NEGATIVE.get(t, SURVEY_NEGATIVE["price"])[int(english)] for t in parts)
    if nps >= 7:
        return ("Mostly fine, but: " if english else "概ね満足ですが、") + body
    return body


def sentiment_hint(event_type: str, csat: int | None, reason: str) -> str:
    """The helpdesk's own sentiment guess (the drifted column): crude, like real ones."""
    if event_type == "resolved" and csat is not None:
        return "positive" if csat >= 4 else ("negative" if csat <= 2 else "neutral")
    return "negative" if reason in ("late", "lost", "damaged", "wrong_item", "app_bug") else "neutral"
