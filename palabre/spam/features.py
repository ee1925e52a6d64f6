"""Feature extraction: hashed word/char n-grams plus a small block of named signals.

Everything here is a pure function of the record, deterministic across processes and
machines (no use of Python's salted ``hash``), so learned per-site state replays the same.
"""

from __future__ import annotations

import functools
import html
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import numpy as np

from .normalize import Normalized, normalize

HASH_BITS = 20
N_HASH = 1 << HASH_BITS
CHAR_NGRAMS = (2, 3, 4, 5)
MINHASH_SHINGLE = 4

_U64 = np.uint64
_M1 = _U64(0xBF58476D1CE4E5B9)
_M2 = _U64(0x94D049BB133111EB)
_P = _U64(0x100000001B3)  # FNV prime: polynomial rolling hash base
_SHIFT = _U64(64 - HASH_BITS)
_SALT_CHAR = 0x9E3779B97F4A7C15
_SALT_WORD = 0xC2B2AE3D27D4EB4F
_SALT_BIGRAM = 0x165667B19E3779F9


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Well-known URL shorteners and link-in-bio redirectors, written for this project (the
# larger shared list is CC-BY-SA and is deliberately not shipped in the package).
SHORTENERS = _words(
    """bit.ly bitly.com goo.gl tinyurl.com t.co ow.ly is.gd v.gd buff.ly adf.ly bit.do
    cutt.ly rb.gy shorturl.at tiny.cc rebrand.ly t.ly s.id shorte.st bc.vc soo.gd qr.net
    x.co po.st su.pr tr.im cli.gs lnkd.in db.tt j.mp ouo.io linktr.ee tiny.one clck.ru
    u.to goo.su short.io bl.ink shorturl.com urlz.fr zpr.io 1url.com snip.ly trib.al
    dlvr.it ift.tt amzn.to youtu.be fb.me wa.me t.me"""
)
# Shorteners that honest readers use a lot; they count as links, not as shortener bait.
BENIGN_SHORTENERS = frozenset({"youtu.be", "amzn.to", "fb.me", "wa.me", "t.me"})
# Top-level domains that abuse trackers consistently list as mostly-abused; a signal only.
SUSPICIOUS_TLDS = _words(
    """xyz top tk ml ga cf gq club online site click link win loan work buzz rest fit icu
    cyou monster bid stream download racing review date faith party science trade webcam
    men accountant cricket kim country gdn mom cam surf sbs bond"""
)
DISPOSABLE_EMAIL = _words(
    """mailinator.com guerrillamail.com guerrillamail.net sharklasers.com 10minutemail.com
    temp-mail.org tempmail.com yopmail.com trashmail.com getnada.com dispostable.com
    throwawaymail.com maildrop.cc fakeinbox.com mintemail.com mailnesia.com moakt.com
    emailondeck.com tempail.com tempr.email spamgourmet.com mohmal.com"""
)

_TLDS = (
    "com|net|org|info|biz|ru|cn|xyz|top|ly|me|io|co|uk|de|fr|tk|ml|ga|cf|gq|club|online|"
    "site|click|link|win|loan|work|us|in|be|gl|to|gd|tv|cc|ws|ee|at|it|es|nl|pl|br|ca|au|"
    "eu|su|pw|shop|store|live|app|blog"
)
URL_RE = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>\"'()\[\]]+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,5}(?:" + _TLDS + r")\b(?:/[^\s<>\"'()]*)?"
)
_OBFUSCATED_LINK = re.compile(
    r"(?i)\b[a-z0-9-]{2,63}(?:\s+\.\s*|\s*\.\s+|\s*[(\[]\s*dot\s*[)\]]\s*|\s+dot\s+)"
    r"(?:com|net|org|info|ru|xyz|co|ly|me)\b"
)
_EMAIL_RE = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,5}")
# Candidates only; _phones() keeps those that look dialable, not view counts ("857.482.940").
_PHONE_RE = re.compile(r"(?<![\w+.,])\+?\d(?:[\d\-\s()]{0,3}\d){8,14}(?![\w.,])")
_SHORTCODE_RE = re.compile(r"(?<![\w.,:/£$€-])\d{5,6}(?![\w.,:/%])")
# Each messenger also as Russian-language spam writes it; the Chinese names stand alone,
# since \b finds no edge between two CJK characters ("加微信": add on WeChat).
_MESSENGER_RE = re.compile(
    r"(?i)\b(?:whats\s?app|watsapp|telegram|wa\.me|t\.me|viber|kik|snapchat|skype|wechat|"
    r"line\s?id|signal\s+app|ватсап\w*|вотсап\w*|телеграм\w*|телеге|вайбер\w*)\b|微信|电报"
)
# Amounts in the currencies of the countries with the most comment spam too, not only
# those of the English-language training corpora ("5000 рублей в день", "R$ 300", "¥8000").
_CURRENCY_SIGNS = "£$€₹₦₽¥₩₺₱₴₫元円"
_MONEY_RE = re.compile(
    rf"(?i)[{_CURRENCY_SIGNS}]\s?\d|\d\s?[{_CURRENCY_SIGNS}]"
    r"|\b\d[\d,.]{0,20}\s?(?:usd|dollars?|pounds?|euros?|gbp|btc|rupees?|pesos?|naira|reais|"
    r"yen|yuan|lira|rubles?|roubles?|руб\w*)\b"
)
# Calls to action and lures: the shared core of spam in every genre (SMS "call now / claim
# your prize", comment "check out / subscribe to my channel", e-mail "click here / order").
# A few other major languages are included because new sites are often not English.
_CTA_RE = re.compile(
    r"(?i)\b(?:click|visit|subscribe|sub\s+(?:to|my|me)|check\s+(?:out|it\s+out|my|me\s+out|us)|"
    r"call\s+(?:now|today|\+?\d)|txt|text\s+\w+\s+to|claim|buy\s+now|order\s+now|"
    r"sign\s+up|dial|act\s+now|hurry|follow\s+(?:me|us)|add\s+me|go\s+to\s+(?:my|www|http)|"
    r"cliquez|visitez|abonnez|suscr[ií]b\w*|visita|klick\w*|besuch\w*|abonnier\w*|"
    r"inscreva|acesse|confira)\b"
)
_LURE_RE = re.compile(
    r"(?i)\b(?:free|win|won|winner|prize|cash|earn|money|offer|deal|discount|bonus|gift|"
    r"award|guaranteed|urgent|limited|cheap|income|profit|loan|credit|bitcoin|crypto|"
    r"investment|gratuit|gratis|kostenlos|ganhe|gana|"
    # The same lures in Russian, the commonest non-Latin script of comment spam.
    r"бесплатн\w*|выигр\w*|заработ\w*|деньг\w*|приз|призы|бонус\w*|скидк\w*|кредит\w*|"
    r"доход\w*|халяв\w*)\b"
)
# One word may stand between the possessive and the thing ("my new song"), but not a
# favourite: "my favorite song" praises the page's own video (6 of the 7 such YouTube
# comments are honest).
_SELF_PROMO_RE = re.compile(
    r"(?i)\b(?:my|our|mon|ma|mes|mi|mis|meu|minha|mein\w*|il\s+mio|la\s+mia|m[oó]j|moja|"
    r"мой|моя|мои|моём|моем|мою)\s+(?:(?!favou?rite|faves?\b|favs?\b)\w+\s+)?"
    r"(?:channel|vids?|videos?|page|website|site|"
    r"blog|music|songs?|tracks?|raps?|beats?|profile|account|shop|store|business|app|book|"
    r"cover|playlist|stream|instagram|insta|facebook|fb|twitter|soundcloud|tiktok|twitch|"
    r"cha[iî]ne|canal|canale|kanal\w*|канал\w*|страниц\w*)\b"
    # Word orders where the possessive follows: "channel saya", "kanalıma", "kanalım".
    r"|\b(?:channel|kanal)\s+(?:saya|aku|ku)\b|\bkanal[ıi]m\w*"
    r"|\b(?:check|look\s+at|listen\s+to|watch)\s+(?:me|us)\b"
    r"|\bi\s+(?:make|upload|do|post|create)\s+(?:\w+\s+){0,2}(?:videos?|vids|music|songs?|"
    r"beats?|covers?|raps?|vlogs?)\b"
)
# Asking readers for subscribers, likes, follows or views: the core of comment-section
# spam on video and social sites, in the languages with the most such traffic. SMS and
# e-mail corpora never contain it, so its prior carries it for models trained on them.
_ASK_RE = re.compile(
    r"(?i)\b(?:sub(?:scribe)?s?\s{0,3}(?:to\s+(?:me|my|us|our)|me|4\s*sub|for\s+sub|back)|"
    r"(?:sub|follow|like)\s{0,3}(?:4|for)\s{0,3}(?:sub|follow|like)|"
    r"(?:get|reach|hit|to)\s+\d+\s?k?\s+subs(?:cribers)?|(?:please|pls|plz|plss?)\s+(?:\w+\s+)?(?:sub\w*|like|"
    r"share|follow|check|view|watch|visit|support|help)|"
    r"follow\s+(?:me|us)\s+on|add\s+me\s+on|like\s+(?:and|&)\s+subscribe|"
    r"suscr[ií]b\w*|inscreva[- ]?se|inscrevam[- ]?se|se\s+inscreve\w*|abonnez[- ]vous|"
    r"abonne[- ]toi|abonnier\w*|iscriviti|iscrivetevi|abone\s+ol\w*|subskrybuj\w*|"
    r"abonneer\w*|подпиш\w*|подписыва\w*|اشترك\w*|सब्सक्राइब)"
    r"|チャンネル登録|订阅|訂閱|구독"
)


# Case-insensitive alternations are 3-4 times slower in Python's re than plain ones (35 ->
# 10 µs each on a 200-character comment), so the word patterns run without (?i) on the text
# already lower-cased; every letter in them is lower case (tests/spam/test_features.py).
def _for_lowercase(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(pattern.pattern.replace("(?i)", "", 1))


_MESSENGER_LC = _for_lowercase(_MESSENGER_RE)
_CTA_LC = _for_lowercase(_CTA_RE)
_LURE_LC = _for_lowercase(_LURE_RE)
_SELF_PROMO_LC = _for_lowercase(_SELF_PROMO_RE)
_ASK_LC = _for_lowercase(_ASK_RE)
# Cheap necessary conditions, checked before the costly patterns: any URL_RE match holds
# "://" or a word character, a dot and a non-space; any _OBFUSCATED_LINK match ends in
# ". com" / "(dot) com" / "dot com" and the like.
_MAYBE_URL = re.compile(r"\w\.[^\s<>\"'()\[\]]")
_MAYBE_OBFUSCATED = re.compile(r"(?:\.|dot)\s*[)\]]?\s*(?:com|net|org|info|ru|xyz|co|ly|me)\b")
_WORD_RE = re.compile(r"[^\W_]+")
_DIGIT_RUN_RE = re.compile(r"\d+")
_VIDEO_RE = re.compile(r"(?i)(?:youtube\.com/watch|youtu\.be/|watch\?v=)")
_PICTO_RE = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")

# Every pattern above has bounded repetition: comments are untrusted input and an
# unbounded "(label.)+" style group backtracks quadratically on inputs like "a.ba.ba.b...".

# Dense named features: (name, what it means). Order is part of the model format.
DENSE_NAMES: tuple[str, ...] = (
    "has_link",
    "n_links",
    "shortener",
    "suspicious_tld",
    "obfuscated_link",
    "link_text_ratio",
    "video_link",
    "phone",
    "shortcode",
    "email_in_text",
    "messenger",
    "money",
    "caps",
    "exclaim",
    "symbols",
    "styled",
    "invisible",
    "confusable",
    "spaced",
    "pictographs",
    "call_to_action",
    "lure",
    "self_promotion",
    "audience_ask",
)
N_DENSE = len(DENSE_NAMES)
# Expert prior (log-odds per unit of feature) that training regularises towards instead of
# zero. Set once from general spam knowledge, not fitted: it only matters when a training
# corpus never shows a signal (SMS has no "subscribe to my channel"), so a model trained on
# one genre still knows the classic tricks of the others. Data overrides it where present.
# Raw digit share and text length were tried and dropped: they separate SMS spam well but
# mark view counts and long honest comments as spam on other sites.
DENSE_PRIOR: dict[str, float] = {
    "has_link": 1.0,
    "n_links": 0.5,
    "shortener": 1.5,
    "suspicious_tld": 1.0,
    "obfuscated_link": 2.0,
    "link_text_ratio": 0.5,
    "phone": 1.5,
    "shortcode": 1.0,
    "email_in_text": 1.0,
    "messenger": 1.5,
    "money": 1.0,
    "caps": 0.5,
    "exclaim": 0.5,
    "styled": 1.5,
    "invisible": 1.5,
    "confusable": 2.0,
    "spaced": 1.5,
    "call_to_action": 1.0,
    "lure": 1.0,
    "self_promotion": 2.0,
    "audience_ask": 2.0,
}
N_FEATURES = N_HASH + N_DENSE


@dataclass(slots=True)
class Features:
    """One record's features plus the raw facts the reasons are written from."""

    idx: np.ndarray  # int64 hashed indices (unique, sorted)
    val: np.ndarray  # float64 values, each block L2-normalised
    dense: np.ndarray  # float64 (N_DENSE,)
    words: list[str]  # unigram tokens, for "words typical of spam"
    word_idx: np.ndarray  # their buckets, aligned with ``words``
    shingles: np.ndarray  # uint64 hashes of char shingles, for near-duplicate search
    hosts: list[str] = field(default_factory=list)  # hosts of links in the text
    facts: dict[str, int] = field(default_factory=dict)
    norm: Normalized | None = None
    cues: dict[str, list[str]] = field(default_factory=dict)  # matched words, for reasons


@dataclass(slots=True)
class FeatureBatch:
    """Features of many texts: the rows of one sparse matrix (for scoring them all at once)
    plus each text's Features, whose arrays are views into the same values."""

    features: list[Features]
    rows: np.ndarray  # int64 row (text) of each stored entry, ascending
    idx: np.ndarray  # int64 hashed index of each entry (sorted within a row)
    val: np.ndarray  # float64 value of each entry
    dense: np.ndarray  # float64 (n texts, N_DENSE)


@dataclass(slots=True)
class _Scan:
    """What the per-text pass hands to the batched hashing."""

    padded: str  # the text to hash: lower-cased, links as hosts, digit runs shaped
    words: list[str]
    dense: list[float]
    hosts: list[str]
    facts: dict[str, int]
    norm: Normalized
    cues: dict[str, list[str]]


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads polynomial hashes over all 64 bits."""
    h = h ^ (h >> _U64(30))
    h = h * _M1
    h = h ^ (h >> _U64(27))
    h = h * _M2
    return h ^ (h >> _U64(31))


def _bucket(h: np.ndarray) -> np.ndarray:
    return (h >> _SHIFT).astype(np.int64)


def _slices(arr: np.ndarray, start: int, counts: list[int]) -> list[np.ndarray]:
    """Consecutive views of ``arr`` from ``start``, one per count."""
    out = []
    for c in counts:
        out.append(arr[start : start + c])
        start += c
    return out


_SIZES = np.array(CHAR_NGRAMS)[:, None]
# Batches of up to this many texts fit their (row, bucket, block bit) keys in an int32.
_INT32_ROWS = 1 << (31 - HASH_BITS - 1)


def _char_grams(texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    """Polynomial hashes of every char n-gram of every text, the text each belongs to, and
    how many each text has of each size. Size-major, then in text order.

    All texts are hashed as one concatenated array, so the cost is a few numpy calls per
    batch rather than per text. The hash of an n-gram extends that of the (n-1)-gram at
    the same position by one character, so all sizes come out of one pass; n-grams that
    would run past the end of their text (into the next one) are dropped.
    """
    lens = [len(t) for t in texts]
    size, top = sum(lens), max(CHAR_NGRAMS)
    cp = np.zeros(size + top, dtype=np.uint64)  # zero tail: every size hashes `size` starts
    cp[:size] = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    grams = np.empty((len(CHAR_NGRAMS), size), dtype=np.uint64)
    h = cp[:size] + _U64(_SALT_CHAR)
    for n in range(2, top + 1):
        out = grams[CHAR_NGRAMS.index(n)] if n in CHAR_NGRAMS else None
        h = np.multiply(h, _P, out=out)
        h += cp[n - 1 : n - 1 + size]
    ends = np.cumsum(lens)
    row = np.repeat(np.arange(len(texts)), lens)
    fits = (ends[row] - np.arange(size)) >= _SIZES  # chars left in the text >= n
    counts = [[max(m - n + 1, 0) for m in lens] for n in CHAR_NGRAMS]
    return grams[fits], row[None].repeat(len(CHAR_NGRAMS), axis=0)[fits], counts


def _word_grams(tokens: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every word unigram (all first, in text order) then bigram of every text,
    and the text each belongs to. Bigrams never straddle two texts."""
    wh = np.array([zlib.crc32(t.encode("utf-8")) for ts in tokens for t in ts], dtype=np.uint64)
    row = np.repeat(np.arange(len(tokens), dtype=np.int64), [len(ts) for ts in tokens])
    pair = row[1:] == row[:-1]
    bigrams = (wh[:-1] * _P + wh[1:] + _U64(_SALT_BIGRAM))[pair]
    return np.concatenate([wh ^ _U64(_SALT_WORD), bigrams]), np.concatenate([row, row[1:][pair]])


def _runs(sorted_keys: np.ndarray) -> np.ndarray:
    """Start of each run of equal keys, plus the end: ``len(result) - 1`` runs."""
    edge = np.empty(sorted_keys.size + 1, dtype=bool)
    edge[:1] = edge[-1:] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=edge[1:-1])
    return edge.nonzero()[0]


def _blocks(keys: np.ndarray, n_rows: int, idf: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique keys (row, bucket, block bit) and their values: sublinear TF times the
    bucket's IDF, L2-normalised per row and block, so long texts do not drown short ones."""
    keys = np.sort(keys)
    runs = _runs(keys)
    keys = keys[runs[:-1]]
    val = 1.0 + np.log(runs[1:] - runs[:-1])
    if idf is not None:
        val *= idf[(keys >> 1) & (N_HASH - 1)]
    group = ((keys >> (HASH_BITS + 1)) << 1) | (keys & 1)
    val /= np.sqrt(np.bincount(group, weights=val * val, minlength=2 * n_rows))[group]
    return keys, val


# ASCII characters for which str.isalpha, isupper, isdigit and isspace hold, as bytes.
_ASCII_ALPHA, _ASCII_UPPER, _ASCII_DIGIT, _ASCII_SPACE = (
    bytes(c for c in range(128) if test(chr(c)))
    for test in (str.isalpha, str.isupper, str.isdigit, str.isspace)
)


def _char_counts(t: str) -> tuple[int, int, int, int, bool]:
    """How many characters are letters, upper case, alphanumeric and white space, and
    whether any is a digit, as str.isalpha, isupper, isalnum, isspace and isdigit say.

    ASCII text (most comments) is counted by bytes.translate in C: the per-character
    Python calls cost ~10 us on a 100-character comment, this ~1 us."""
    if not t.isascii():
        return (
            sum(map(str.isalpha, t)),
            sum(map(str.isupper, t)),
            sum(map(str.isalnum, t)),
            sum(map(str.isspace, t)),
            any(map(str.isdigit, t)),
        )
    b = t.encode("ascii")
    n = len(b)
    letters = n - len(b.translate(None, _ASCII_ALPHA))
    digits = n - len(b.translate(None, _ASCII_DIGIT))
    upper = n - len(b.translate(None, _ASCII_UPPER))
    return letters, upper, letters + digits, n - len(b.translate(None, _ASCII_SPACE)), digits > 0


def _phones(text: str) -> list[str]:
    out = []
    for m in _PHONE_RE.findall(text):
        n_digits = sum(map(str.isdigit, m))
        if m.startswith(("+", "0")) or n_digits >= 10:
            out.append(m)
    return out


def host_of(url: str) -> str:
    u = url.lower()
    u = re.sub(r"^[a-z][a-z0-9+.-]*://", "", u)
    u = re.split(r"[/?#]", u, maxsplit=1)[0]
    u = u.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    return u[4:] if u.startswith("www.") else u


def registrable(host: str) -> str:
    """Approximate registrable domain (example.co.uk, example.com) without a suffix list."""
    parts = host.split(".")
    if len(parts) >= 3 and len(parts[-2]) <= 3 and len(parts[-1]) == 2:
        return ".".join(parts[-3:])
    return ".".join(parts[-2:])


def is_shortener(host: str) -> bool:
    parts = host.split(".")
    return any(".".join(parts[i:]) in SHORTENERS for i in range(len(parts) - 1))


_YOUTUBE_HOSTS = frozenset({"youtube.com", "m.youtube.com", "music.youtube.com", "youtu.be"})
_VIDEO_ID = re.compile(r"([\w-]{6,20})")  # also cuts what sticks to it ("ID.", "ID\ufeff")
_VIDEO_PATH = re.compile(r"/(?:shorts|embed|live|v)/([\w-]{6,20})")


def page_key(url: str) -> str | None:
    """What names the page a URL points at: host and path (query and fragment dropped), or
    the video id on YouTube, where the page is a query parameter. None without a host."""
    u = html.unescape(url.strip())
    if "://" not in u:
        u = "http://" + u
    try:
        parts = urlsplit(u)
    except ValueError:  # an unbalanced "[" in the host part
        return None
    host = host_of(parts.netloc)
    if "." not in host:
        return None
    if host in _YOUTUBE_HOSTS:
        if host == "youtu.be":
            m = _VIDEO_ID.match(parts.path.lstrip("/"))
        elif parts.path.rstrip("/") == "/watch":
            m = _VIDEO_ID.match((parse_qs(parts.query).get("v") or [""])[0])
        else:
            m = _VIDEO_PATH.match(parts.path)
        return f"youtube:{m.group(1)}" if m else None
    # A link at the end of a sentence ("... see example.com/post.") keeps its full stop.
    return host + parts.path.rstrip(".,;:!?").rstrip("/")


def without_page_links(text: str, permalink: str | None) -> str:
    """The text with every link to the page being commented on (``permalink``) removed.

    Quoting the page's own address promotes nothing: a share button's "Title: link", a
    video's timestamp links, a reader pointing at the article. Yet as links they looked
    like the commonest spam trick: in leave-one-video-out tests, 8 of the 18 honest
    YouTube comments scored as spam were such self-links (docs/spam-filter.md)."""
    # Records are untrusted: anything but two strings (a text of bytes, a page that is a
    # number) is left as it is, for normalize() to make safe.
    key = page_key(permalink) if isinstance(permalink, str) and permalink else None
    if key is None or not isinstance(text, str):
        return text
    # Cheap guard: a link to the page must contain its last path segment or video id.
    needle = key.rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower()
    if needle not in text.lower():
        return text
    return URL_RE.sub(lambda m: " " if page_key(m.group(0)) == key else m.group(0), text)


def _scan(text: object) -> _Scan:
    """The per-text half of extraction: what regexes and string methods find in it."""
    norm = normalize(text)
    t = norm.text
    lower = t.lower()

    # Cheap guards skip patterns that cannot match: most comments have no digit, no dot
    # in a word, no "@"; this keeps a verdict well under a millisecond.
    has_dot = "." in lower
    letters, upper, alnum, spaces, has_digit = _char_counts(t)
    has_at = "@" in t
    maybe_url = has_dot and ("://" in lower or _MAYBE_URL.search(lower) is not None)
    urls = URL_RE.findall(lower) if maybe_url else []
    hosts = [h for h in (host_of(u) for u in urls) if "." in h]
    shorteners = [h for h in hosts if is_shortener(h) and registrable(h) not in BENIGN_SHORTENERS]
    suspicious = [h for h in hosts if h.rsplit(".", 1)[-1] in SUSPICIOUS_TLDS]
    url_chars = sum(len(u) for u in urls)
    # Links become their host only: paths are random and would not generalise.
    feat_text = URL_RE.sub(lambda m: " " + host_of(m.group(0)) + " ", lower) if urls else lower
    # Numbers of up to four digits (years, times, counts) are in every honest thread; only
    # long runs (phone numbers, short codes) keep a shape of their own. Without this, a
    # model trained on SMS learns "any digit = spam" and flags "still watching in 2015".
    feat_text = _DIGIT_RUN_RE.sub(lambda m: "0" if len(m.group(0)) <= 4 else "00000", feat_text)

    n = max(len(t), 1)
    symbols = len(t) - alnum - spaces
    emails = _EMAIL_RE.findall(t) if has_at else []
    text_no_mail = _EMAIL_RE.sub(" ", t) if emails else t
    phones = _phones(text_no_mail) if has_digit else []
    shortcodes = _SHORTCODE_RE.findall(text_no_mail) if has_digit else []
    messengers = _MESSENGER_LC.findall(lower)
    money = _MONEY_RE.findall(t) if has_digit else []
    maybe_obfuscated = (has_dot or "dot" in lower) and _MAYBE_OBFUSCATED.search(lower)
    obfuscated = _OBFUSCATED_LINK.findall(lower) if maybe_obfuscated else []
    videos = _VIDEO_RE.findall(lower) if urls or "watch?v=" in lower else []
    pictos = _PICTO_RE.findall(t)
    ctas = _CTA_LC.findall(lower)
    lures = _LURE_LC.findall(lower)
    promos = _SELF_PROMO_LC.findall(lower)
    asks = _ASK_LC.findall(lower)

    dense = [
        1.0 if hosts or obfuscated else 0.0,
        _log_links(len(hosts)),
        min(len(shorteners), 3) / 3.0,
        1.0 if suspicious else 0.0,
        1.0 if obfuscated else 0.0,
        min(url_chars / n, 1.0),
        1.0 if videos else 0.0,
        1.0 if phones else 0.0,
        1.0 if shortcodes else 0.0,
        1.0 if emails else 0.0,
        1.0 if messengers else 0.0,
        1.0 if money else 0.0,
        upper / letters if letters >= 8 else 0.0,
        min(t.count("!") / 5.0, 1.0),
        min(symbols / n * 4.0, 1.0),
        min(norm.styled / 5.0, 1.0),
        min(norm.invisible / 3.0, 1.0),
        min(norm.confusable_words / 2.0, 1.0),
        min(norm.spaced_runs / 2.0, 1.0),
        min(len(pictos) / 5.0, 1.0),
        min(len(ctas) / 2.0, 1.0),
        min(len(lures) / 2.0, 1.0),
        1.0 if promos else 0.0,
        min(len(asks) / 2.0, 1.0),
    ]
    facts = {
        "links": len(hosts),
        "domains": len({registrable(h) for h in hosts}),
        "shorteners": len(shorteners),
        "suspicious_tld": len(suspicious),
        "obfuscated": len(obfuscated),
        "videos": len(videos),
        "phones": len(phones),
        "shortcodes": len(shortcodes),
        "emails": len(emails),
        "messengers": len(messengers),
        "money": len(money),
        "letters": letters,
        "upper": upper,
        "exclaim": t.count("!"),
        "pictos": len(pictos),
        "chars": len(t),
        "cta": len(ctas),
        "lures": len(lures),
        "promos": len(promos),
        "asks": len(asks),
    }
    cues = {"cta": ctas, "lures": lures, "asks": asks}
    words = _WORD_RE.findall(feat_text)
    # No text, no text features: padding alone hashed to a bucket that training (which has
    # no blank texts) never saw empty, and it called every blank comment "wording typical
    # of spam" (0.999), such as an Akismet signup check, which has no comment content.
    padded = f" {feat_text} " if feat_text.strip() else ""
    return _Scan(padded, words, dense, hosts, facts, norm, cues)


@functools.cache
def _log_links(n: int) -> float:
    return float(np.log1p(n)) / 2.0


def extract(text: object, idf: np.ndarray | None = None) -> Features:
    """One text's features: a batch of one, so a text scores the same alone or in a batch."""
    return extract_batch([text], idf).features[0]


def extract_batch(texts: Sequence[object], idf: np.ndarray | None = None) -> FeatureBatch:
    """Features of many texts. Regexes run per text; all the hashing runs once per batch,
    because on comments of a hundred characters numpy's per-call overhead, not the
    arithmetic, was most of the cost of a verdict.

    ``idf`` (one weight per bucket, from the model's training data: train.idf_weights)
    weighs each n-gram by how rare it was there, before the per-block normalisation;
    without it every n-gram weighs by its count alone."""
    scans = [_scan(t) for t in texts]
    n = len(scans)
    c_hash, c_row, c_counts = _char_grams([s.padded for s in scans])
    w_hash, w_row = _word_grams([s.words for s in scans])
    # Both blocks go through one mix and one sort: the key is (row, bucket, block bit).
    mixed = _mix(np.concatenate([c_hash, w_hash]))
    buckets = _bucket(mixed)
    keys = (np.concatenate([c_row, w_row]) << (HASH_BITS + 1)) | (buckets << 1)
    keys[c_hash.size :] |= 1
    if n <= _INT32_ROWS:  # the sort is most of the batch's hashing, and int32 sorts faster
        keys = keys.astype(np.int32)
    keys, val = _blocks(keys, n, idf)

    # Char and word buckets can collide: the two values, adjacent with the char one first,
    # are added so the vector is canonical.
    keys >>= 1
    runs = _runs(keys)
    if runs.size <= keys.size:
        val = np.add.reduceat(val, runs[:-1])
        keys = keys[runs[:-1]]
    rows = keys >> HASH_BITS
    idx = (keys & (N_HASH - 1)).astype(np.int64)
    ptr = np.searchsorted(rows, np.arange(n + 1)).tolist()

    # Shingles are the mixed hashes of one n-gram size (views); a text too short for one
    # falls back on its smallest n-grams (every padded text has some).
    k = CHAR_NGRAMS.index(MINHASH_SHINGLE)
    shingles = [
        sh if sh.size else short
        for sh, short in zip(
            _slices(mixed, sum(map(sum, c_counts[:k])), c_counts[k]),
            _slices(mixed, 0, c_counts[0]),
            strict=True,
        )
    ]
    word_idx = _slices(buckets, c_hash.size, [len(s.words) for s in scans])
    dense = np.array([s.dense for s in scans], dtype=np.float64).reshape(n, N_DENSE)
    features = [
        Features(
            idx[ptr[i] : ptr[i + 1]],
            val[ptr[i] : ptr[i + 1]],
            dense[i],
            s.words,
            word_idx[i],
            shingles[i],
            s.hosts,
            s.facts,
            s.norm,
            s.cues,
        )
        for i, s in enumerate(scans)
    ]
    return FeatureBatch(features, rows, idx, val, dense)
