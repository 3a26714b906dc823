"""Reference data: common Japanese names (kanji, katakana, romaji), prefectures, email domains.

Small built-in lists so that the sample world needs no name-generator package. Romaji is Hepburn
without macrons, as Japanese customers type it into web forms (Ōno -> Ono), so different kanji can
share a romaji spelling, as they do in real data.
"""

from __future__ import annotations

# (kanji, katakana, romaji)
FAMILY_NAMES: tuple[tuple[str, str, str], ...] = (
    ("佐藤", "サトウ", "Sato"), ("鈴木", "スズキ", "Suzuki"), ("高橋", "タカハシ", "Takahashi"),
    ("田中", "タナカ", "Tanaka"), ("伊藤", "イトウ", "Ito"), ("渡辺", "ワタナベ", "Watanabe"),
    ("山本", "ヤマモト", "Yamamoto"), ("中村", "ナカムラ", "Nakamura"), ("小林", "コバヤシ", "Kobayashi"),
    ("加藤", "カトウ", "Kato"), ("吉田", "ヨシダ", "Yoshida"), ("山田", "ヤマダ", "Yamada"),
    ("佐々木", "ササキ", "Sasaki"), ("山口", "ヤマグチ", "Yamaguchi"), ("松本", "マツモト", "Matsumoto"),
    ("井上", "イノウエ", "Inoue"), ("木村", "キムラ", "Kimura"), ("林", "ハヤシ", "Hayashi"),
    ("斎藤", "サイトウ", "Saito"), ("清水", "シミズ", "Shimizu"), ("山崎", "ヤマザキ", "Yamazaki"),
    ("森", "モリ", "Mori"), ("池田", "イケダ", "Ikeda"), ("橋本", "ハシモト", "Hashimoto"),
    ("阿部", "アベ", "Abe"), ("石川", "イシカワ", "Ishikawa"), ("山下", "ヤマシタ", "Yamashita"),
    ("中島", "ナカジマ", "Nakajima"), ("石井", "イシイ", "Ishii"), ("小川", "オガワ", "Ogawa"),
    ("前田", "マエダ", "Maeda"), ("岡田", "オカダ", "Okada"), ("長谷川", "ハセガワ", "Hasegawa"),
    ("藤田", "フジタ", "Fujita"), ("後藤", "ゴトウ", "Goto"), ("近藤", "コンドウ", "Kondo"),
    ("村上", "ムラカミ", "Murakami"), ("遠藤", "エンドウ", "Endo"), ("青木", "アオキ", "Aoki"),
    ("坂本", "サカモト", "Sakamoto"), ("福田", "フクダ", "Fukuda"), ("太田", "オオタ", "Ota"),
    ("西村", "ニシムラ", "Nishimura"), ("藤井", "フジイ", "Fujii"), ("金子", "カネコ", "Kaneko"),
    ("岡本", "オカモト", "Okamoto"), ("藤原", "フジワラ", "Fujiwara"), ("中野", "ナカノ", "Nakano"),
    ("三浦", "ミウラ", "Miura"), ("原田", "ハラダ", "Harada"), ("中川", "ナカガワ", "Nakagawa"),
    ("松田", "マツダ", "Matsuda"), ("竹内", "タケウチ", "Takeuchi"), ("小野", "オノ", "Ono"),
    ("田村", "タムラ", "Tamura"), ("中山", "ナカヤマ", "Nakayama"), ("和田", "ワダ", "Wada"),
    ("石田", "イシダ", "Ishida"), ("上田", "ウエダ", "Ueda"), ("森田", "モリタ", "Morita"),
    ("原", "ハラ", "Hara"), ("柴田", "シバタ", "Shibata"), ("酒井", "サカイ", "Sakai"),
    ("工藤", "クドウ", "Kudo"), ("横山", "ヨコヤマ", "Yokoyama"), ("宮崎", "ミヤザキ", "Miyazaki"),
    ("宮本", "ミヤモト", "Miyamoto"), ("内田", "ウチダ", "Uchida"), ("高木", "タカギ", "Takagi"),
    ("安藤", "アンドウ", "Ando"), ("谷口", "タニグチ", "Taniguchi"), ("大野", "オオノ", "Ono"),
    ("丸山", "マルヤマ", "Maruyama"), ("今井", "イマイ", "Imai"), ("高田", "タカダ", "Takada"),
    ("藤本", "フジモト", "Fujimoto"), ("武田", "タケダ", "Takeda"), ("村田", "ムラタ", "Murata"),
    ("上野", "ウエノ", "Ueno"), ("杉山", "スギヤマ", "Sugiyama"), ("増田", "マスダ", "Masuda"),
    ("小山", "コヤマ", "Koyama"), ("大塚", "オオツカ", "Otsuka"), ("平野", "ヒラノ", "Hirano"),
    ("菅原", "スガワラ", "Sugawara"), ("久保", "クボ", "Kubo"), ("松井", "マツイ", "Matsui"),
    ("千葉", "チバ", "Chiba"), ("岩崎", "イワサキ", "Iwasaki"), ("桜井", "サクライ", "Sakurai"),
    ("木下", "キノシタ", "Kinoshita"), ("野口", "ノグチ", "Noguchi"), ("松尾", "マツオ", "Matsuo"),
    ("菊地", "キクチ", "Kikuchi"), ("野村", "ノムラ", "Nomura"), ("新井", "アライ", "Arai"),
)

FEMALE_NAMES: tuple[tuple[str, str, str], ...] = (
    ("陽子", "ヨウコ", "Yoko"), ("優子", "ユウコ", "Yuko"), ("恵子", "ケイコ", "Keiko"),
    ("裕子", "ユウコ", "Yuko"), ("美咲", "ミサキ", "Misaki"), ("愛", "アイ", "Ai"),
    ("彩", "アヤ", "Aya"), ("さくら", "サクラ", "Sakura"), ("陽菜", "ヒナ", "Hina"),
    ("結衣", "ユイ", "Yui"), ("美穂", "ミホ", "Miho"), ("麻衣", "マイ", "Mai"),
    ("千尋", "チヒロ", "Chihiro"), ("真由美", "マユミ", "Mayumi"), ("由美", "ユミ", "Yumi"),
    ("直美", "ナオミ", "Naomi"), ("久美子", "クミコ", "Kumiko"), ("明美", "アケミ", "Akemi"),
    ("智子", "トモコ", "Tomoko"), ("香織", "カオリ", "Kaori"), ("奈々", "ナナ", "Nana"),
    ("美紀", "ミキ", "Miki"), ("舞", "マイ", "Mai"), ("楓", "カエデ", "Kaede"),
    ("葵", "アオイ", "Aoi"), ("凛", "リン", "Rin"), ("結菜", "ユイナ", "Yuina"),
    ("芽衣", "メイ", "Mei"), ("杏", "アン", "An"), ("早紀", "サキ", "Saki"),
    ("遥", "ハルカ", "Haruka"), ("真理子", "マリコ", "Mariko"), ("幸子", "サチコ", "Sachiko"),
    ("京子", "キョウコ", "Kyoko"), ("理恵", "リエ", "Rie"), ("亜希子", "アキコ", "Akiko"),
    ("絵美", "エミ", "Emi"), ("友美", "トモミ", "Tomomi"), ("瞳", "ヒトミ", "Hitomi"),
    ("沙織", "サオリ", "Saori"),
)

MALE_NAMES: tuple[tuple[str, str, str], ...] = (
    ("翔太", "ショウタ", "Shota"), ("大輔", "ダイスケ", "Daisuke"), ("拓也", "タクヤ", "Takuya"),
    ("健太", "ケンタ", "Kenta"), ("直樹", "ナオキ", "Naoki"), ("誠", "マコト", "Makoto"),
    ("浩", "ヒロシ", "Hiroshi"), ("隆", "タカシ", "Takashi"), ("健一", "ケンイチ", "Kenichi"),
    ("和也", "カズヤ", "Kazuya"), ("達也", "タツヤ", "Tatsuya"), ("翔", "ショウ", "Sho"),
    ("蓮", "レン", "Ren"), ("陽翔", "ハルト", "Haruto"), ("大翔", "ヒロト", "Hiroto"),
    ("悠真", "ユウマ", "Yuma"), ("湊", "ミナト", "Minato"), ("颯太", "ソウタ", "Sota"),
    ("拓海", "タクミ", "Takumi"), ("健", "ケン", "Ken"), ("修", "オサム", "Osamu"),
    ("剛", "ツヨシ", "Tsuyoshi"), ("哲也", "テツヤ", "Tetsuya"), ("雅之", "マサユキ", "Masayuki"),
    ("秀樹", "ヒデキ", "Hideki"), ("正人", "マサト", "Masato"), ("亮", "リョウ", "Ryo"),
    ("航", "ワタル", "Wataru"), ("大樹", "ダイキ", "Daiki"), ("康弘", "ヤスヒロ", "Yasuhiro"),
    ("明", "アキラ", "Akira"), ("一郎", "イチロウ", "Ichiro"), ("浩二", "コウジ", "Koji"),
    ("勇気", "ユウキ", "Yuki"), ("涼介", "リョウスケ", "Ryosuke"), ("慎也", "シンヤ", "Shinya"),
    ("智也", "トモヤ", "Tomoya"), ("雄太", "ユウタ", "Yuta"), ("翼", "ツバサ", "Tsubasa"),
    ("悠斗", "ユウト", "Yuto"),
)

# (prefecture, postcode prefixes (first three digits, as ranges), population weight, remote)
# `remote` regions get one more promised delivery day and more late parcels.
PREFECTURES: tuple[tuple[str, tuple[int, int], float, bool], ...] = (
    ("東京都", (100, 208), 14.0, False),
    ("神奈川県", (210, 259), 9.2, False),
    ("大阪府", (530, 599), 8.8, False),
    ("愛知県", (440, 498), 7.5, False),
    ("埼玉県", (330, 369), 7.3, False),
    ("千葉県", (260, 299), 6.3, False),
    ("兵庫県", (650, 679), 5.4, False),
    ("北海道", (40, 99), 5.1, True),
    ("福岡県", (800, 839), 5.1, True),
    ("静岡県", (410, 439), 3.6, False),
    ("京都府", (600, 629), 2.5, False),
    ("広島県", (720, 739), 2.8, True),
    ("宮城県", (980, 989), 2.3, True),
    ("沖縄県", (900, 907), 1.2, True),
)

# Personal email domains (weight); gmail.com gets the gmail-only variants (dots, +tags).
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.38),
    ("yahoo.co.jp", 0.22),
    ("icloud.com", 0.12),
    ("docomo.ne.jp", 0.07),
    ("ezweb.ne.jp", 0.05),
    ("softbank.ne.jp", 0.04),
    ("outlook.jp", 0.05),
    ("hotmail.co.jp", 0.04),
    ("nifty.com", 0.03),
)

# Small companies whose staff share one info@ address (example domains, never real ones).
COMPANY_DOMAINS: tuple[str, ...] = (
    "sakura-design.example.co.jp", "marunaka-shoten.example.co.jp", "aozora-clinic.example.jp",
    "kawase-kensetsu.example.co.jp", "hoshino-cafe.example.jp", "midori-hoikuen.example.jp",
    "tanpopo-yakkyoku.example.co.jp", "nishiki-travel.example.co.jp",
)

# Store cities (one store each, ~30 stores): (city label, prefecture).
STORE_CITIES: tuple[tuple[str, str], ...] = (
    ("渋谷", "東京都"), ("新宿", "東京都"), ("池袋", "東京都"), ("銀座", "東京都"), ("吉祥寺", "東京都"),
    ("立川", "東京都"), ("横浜", "神奈川県"), ("川崎", "神奈川県"), ("藤沢", "神奈川県"),
    ("梅田", "大阪府"), ("難波", "大阪府"), ("天王寺", "大阪府"), ("名古屋栄", "愛知県"),
    ("名古屋駅前", "愛知県"), ("大宮", "埼玉県"), ("浦和", "埼玉県"), ("千葉", "千葉県"),
    ("船橋", "千葉県"), ("三宮", "兵庫県"), ("札幌", "北海道"), ("天神", "福岡県"), ("博多", "福岡県"),
    ("静岡", "静岡県"), ("京都四条", "京都府"), ("広島", "広島県"), ("仙台", "宮城県"),
    ("那覇", "沖縄県"), ("柏", "千葉県"), ("町田", "東京都"), ("浜松", "静岡県"),
)
