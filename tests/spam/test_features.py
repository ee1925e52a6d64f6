"""Named features that carry over to sites and genres the training data never showed."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from palabre.spam import features
from palabre.spam.features import DENSE_NAMES, extract

ASK = DENSE_NAMES.index("audience_ask")
PROMO = DENSE_NAMES.index("self_promotion")


@pytest.mark.parametrize(
    "text",
    [
        "sub me plz, I sub back",
        "Follow 4 Follow, Like 4 Like",
        "help me reach 1000 subscribers!",
        "Suscríbete a mi canal",
        "Inscreva-se no meu canal",
        "Abonnez-vous à ma chaîne",
        "подпишитесь на мой канал",
        "チャンネル登録お願いします",
    ],
)
def test_asks_for_subscribers_in_several_languages(text: str) -> None:
    assert extract(text).dense[ASK] > 0


@pytest.mark.parametrize(
    "text",
    [
        "He gets more views but has less subscribers lol",
        "I subscribed to the newsletter years ago",
        "please don't stop making music like this",
    ],
)
def test_talking_about_subscribers_is_not_asking(text: str) -> None:
    assert extract(text).dense[ASK] == 0


@pytest.mark.parametrize(
    "text", ["I make Minecraft videos", "check me out, I rap", "visit my blog", "mira mi canal"]
)
def test_self_promotion(text: str) -> None:
    assert extract(text).dense[PROMO] == 1.0


@pytest.mark.parametrize(
    "text", ["This is my favorite song ever", "one of my favourite videos", "my fav track <3"]
)
def test_a_favourite_is_not_self_promotion(text: str) -> None:
    assert extract(text).dense[PROMO] == 0.0


def test_short_numbers_share_one_shape_long_ones_keep_theirs() -> None:
    a, b = extract("still watching in 2015"), extract("still watching in 1999")
    assert np.array_equal(a.idx, b.idx)
    call = extract("still watching in 09061701461")
    assert not np.array_equal(a.idx, call.idx)


# The word patterns run without (?i) on lower-cased text, for speed; these hold them to the
# case-insensitive originals.
LOWERCASE_TWINS = [
    (features._MESSENGER_RE, features._MESSENGER_LC),
    (features._CTA_RE, features._CTA_LC),
    (features._LURE_RE, features._LURE_LC),
    (features._SELF_PROMO_RE, features._SELF_PROMO_LC),
    (features._ASK_RE, features._ASK_LC),
]


@pytest.mark.parametrize(("original", "twin"), LOWERCASE_TWINS)
def test_lowercase_twins_have_no_capital_letters(original: re.Pattern[str], twin: re.Pattern[str]):
    assert not twin.flags & re.IGNORECASE
    literals = re.sub(r"\\.", "", twin.pattern)  # escapes such as \S or \W are not letters
    assert not [c for c in literals if c.isupper()]


WORDS = (
    *("free", "FREE", "Win", "cash", "click", "Click HERE", "visit", "whatsapp", "WhatsApp"),
    *("telegram", "my", "MY", "Mon", "channel", "Channel", "videos", "subscribe", "Subscribe"),
    *("check", "OUT", "sub", "me", "please", "PLZ", "like", "follow", "site", "example"),
    *("com", "COM", "net", "ru", "dot", "(dot)", "www", "http://", "youtu.be", "x"),
    *("chaîne", "Канал", "подпишитесь", "hello", "the", "1000", "@", "/", "İnstagram", "ſub"),
)
SEPARATORS = (" ", "", ".", " . ", ". ", "-", "\n", "!", ", ", "/")
MIXED_CASE = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=25
).map(lambda parts: "".join(word + sep for word, sep in parts))


@given(MIXED_CASE)
def test_lowercase_twins_count_what_the_originals_count(text: str) -> None:
    lower = text.lower()
    for original, twin in LOWERCASE_TWINS:
        if not any(c in text for c in "İſıK"):  # case folds that str.lower() does not undo
            assert len(twin.findall(lower)) == len(original.findall(text)), original.pattern


@given(MIXED_CASE)
def test_cheap_guards_never_skip_a_match(text: str) -> None:
    lower = text.lower()
    if features.URL_RE.search(lower):
        assert "://" in lower or features._MAYBE_URL.search(lower)
    if features._OBFUSCATED_LINK.search(lower):
        assert features._MAYBE_OBFUSCATED.search(lower)


BATCH_TEXTS = [
    "", "a", "ab", "Hello world", "Привет мир", "see http://bit.ly/x now", "x" * 5_000,
    "sub4sub sub4sub", "𝗪𝗜𝗡", "great song", "great song",
]  # fmt: skip


def test_extract_batch_keeps_texts_apart() -> None:
    # Every text's features from a batch equal those it gets alone, down to the bit.
    batch = features.extract_batch(BATCH_TEXTS)
    assert len(batch.features) == len(BATCH_TEXTS)
    for text, f in zip(BATCH_TEXTS, batch.features, strict=True):
        alone = extract(text)
        assert np.array_equal(f.idx, alone.idx) and np.array_equal(f.val, alone.val)
        assert np.array_equal(f.dense, alone.dense)
        assert np.array_equal(f.word_idx, alone.word_idx) and f.words == alone.words
        assert np.array_equal(f.shingles, alone.shingles)
        assert f.facts == alone.facts and f.hosts == alone.hosts
        assert np.all(np.diff(f.idx) > 0)  # unique and sorted
        if not text:  # a blank text has no text features at all
            assert f.idx.size == f.shingles.size == 0
            continue
        assert f.shingles.size > 0
        assert 1.0 - 1e-9 <= np.dot(f.val, f.val) <= 4.0  # one or two unit-norm blocks
    rows = np.repeat(np.arange(len(BATCH_TEXTS)), [f.idx.size for f in batch.features])
    assert np.array_equal(batch.rows, rows)
    assert np.array_equal(batch.idx, np.concatenate([f.idx for f in batch.features]))
    assert features.extract_batch([]).features == []


@given(st.text(max_size=40))
def test_char_counts_agree_with_str_methods(text: str) -> None:
    for t in (text, text.encode("ascii", "ignore").decode("ascii")):
        assert features._char_counts(t) == (
            sum(map(str.isalpha, t)),
            sum(map(str.isupper, t)),
            sum(map(str.isalnum, t)),
            sum(map(str.isspace, t)),
            any(map(str.isdigit, t)),
        )


def test_char_counts_every_ascii_character() -> None:
    for c in map(chr, range(128)):
        assert features._char_counts(c) == (
            c.isalpha(), c.isupper(), c.isalnum(), c.isspace(), c.isdigit()
        )  # fmt: skip


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://www.youtube.com/watch?v=KQ6zr6kCPj8&t=2m19s", "youtube:KQ6zr6kCPj8"),
        ("http://youtu.be/9bZkp7q19f0\ufeff", "youtube:9bZkp7q19f0"),
        ("https://m.youtube.com/shorts/abcDEF123", "youtube:abcDEF123"),
        ("https://www.example.com/news/story/?utm_source=x#c5", "example.com/news/story"),
        ("example.com/news/story.", "example.com/news/story"),
        ("/news/story", None),  # no host: cannot say which site
        ("https://www.youtube.com/", None),
    ],
)
def test_page_key(url: str, key: str | None) -> None:
    assert features.page_key(url) == key


def test_links_to_the_page_itself_are_dropped_and_others_kept() -> None:
    video = "https://www.youtube.com/watch?v=KQ6zr6kCPj8"
    shared = 'LMFAO - Party Rock Anthem: <a href="https://youtu.be/KQ6zr6kCPj8">x</a> :D'
    assert "youtu" not in features.without_page_links(shared, video)
    stamp = '<a href="http://www.youtube.com/watch?v=KQ6zr6kCPj8&amp;t=2m19s">2:19</a> best'
    assert "youtube" not in features.without_page_links(stamp, video)
    other = "great, now watch mine https://youtu.be/AAAAAAAAAAA"
    assert features.without_page_links(other, video) == other
    article = "https://news.example.com/2026/story"
    text = "as the piece says (news.example.com/2026/story?ref=x) but see spam.example/2026/story"
    out = features.without_page_links(text, article)
    assert "news.example.com" not in out and "spam.example/2026/story" in out
    assert features.without_page_links(text, None) == text
    assert features.without_page_links(text, "/2026/story") == text


@pytest.mark.parametrize(
    ("text", "messenger", "lure"),
    [
        ("Заработок от 5000 руб в день, пиши в телеграм", 1.0, 0.5),
        ("Бесплатно! Пишите на вотсап, бонус каждому", 1.0, 1.0),
        ("加微信 abc12345 免费领取", 1.0, 0.0),
        ("Отличная статья, спасибо автору за подробный разбор.", 0.0, 0.0),
    ],
)
def test_messengers_and_lures_in_russian_and_chinese(text: str, messenger: float, lure: float):
    dense = extract(text).dense
    assert dense[DENSE_NAMES.index("messenger")] == messenger
    assert dense[DENSE_NAMES.index("lure")] == lure


@pytest.mark.parametrize(
    ("text", "money"),
    [
        ("Заработок от 5000 рублей в день", 1.0),
        ("Ganhe R$ 300 por dia", 1.0),
        ("日赚500元", 1.0),
        ("gana 1000 pesos diarios", 1.0),
        ("still watching in 2015, 3 years later", 0.0),
        ("Отличная статья, 10 из 10", 0.0),
    ],
)
def test_money_in_other_currencies(text: str, money: float) -> None:
    assert extract(text).dense[DENSE_NAMES.index("money")] == money
