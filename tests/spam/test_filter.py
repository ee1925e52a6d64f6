from __future__ import annotations

import json
import math

import pytest

from palabre.spam import CommentRecord, Reason, SiteState, SpamFilter, Thresholds, Verdict

HAM = "I saw them live last year, the drummer was incredible. Still my favourite album."
SPAM = (
    "Make $500 a day from home!!! Click http://bit.ly/3xYz and http://tinyurl.com/cash99 "
    "or WhatsApp me on +1 415 555 0199 now"
)


def texts(v: Verdict) -> str:
    return " | ".join(r.text for r in v.reasons)


def test_obvious_ham_and_spam(filt: SpamFilter) -> None:
    ham, spam = filt.check(CommentRecord(text=HAM)), filt.check(CommentRecord(text=SPAM))
    assert ham.klass == "ham"
    assert spam.klass in ("spam", "discard")
    assert 0.0 <= ham.score < filt.thresholds.unsure <= filt.thresholds.spam <= spam.score <= 1


def test_reasons_are_sentences_sorted_by_weight(filt: SpamFilter) -> None:
    v = filt.check(CommentRecord(text=SPAM))
    assert "2 links to a URL shortener" in texts(v)
    assert any("phone number" in r.text and "messenger" in r.text for r in v.reasons)
    weights = [abs(r.weight) for r in v.reasons]
    assert weights == sorted(weights, reverse=True)
    assert all(isinstance(r, Reason) and isinstance(r.weight, float) for r in v.reasons)
    assert sum(r.weight for r in v.reasons) > 0


def test_ham_reasons_point_the_other_way(filt: SpamFilter) -> None:
    v = filt.check(CommentRecord(text=HAM))
    assert v.reasons and v.reasons[0].weight < 0


def test_to_dict_is_json(filt: SpamFilter) -> None:
    d = filt.check(CommentRecord(text=SPAM)).to_dict()
    assert set(d) == {"score", "class", "reasons"}
    assert d["class"] in ("ham", "unsure", "spam", "discard")
    assert all(set(r) == {"text", "weight"} for r in d["reasons"])
    json.dumps(d)


def test_honeypot_is_a_hard_rule(filt: SpamFilter) -> None:
    v = filt.check(CommentRecord(text=HAM, honeypot="http://x.example"))
    assert v.klass == "discard"
    assert v.reasons[0].text.startswith("hidden honeypot field was filled in")


def test_too_fast_submit_and_bot_user_agent(filt: SpamFilter) -> None:
    base = filt.check(CommentRecord(text=HAM))
    fast = filt.check(CommentRecord(text=HAM, seconds_to_submit=0.4, user_agent="curl/8.0"))
    assert fast.score > base.score
    assert "submitted 0.4 s after the form was shown" in texts(fast)
    assert "submitted by a script, not a browser" in texts(fast)
    slow = filt.check(CommentRecord(text=HAM, seconds_to_submit=40.0))
    assert slow.score == base.score


def test_author_website_email_signals(filt: SpamFilter) -> None:
    rec = CommentRecord(
        text=HAM, author="Cheap pills www.pills.example", website="https://bit.ly/abc",
        email="x@mailinator.com",
    )  # fmt: skip
    v = filt.check(rec)
    assert v.score > filt.check(CommentRecord(text=HAM)).score
    assert "author name contains a link" in texts(v)
    assert "website is a URL shortener (bit.ly)" in texts(v)


def test_language_mismatch(filt: SpamFilter) -> None:
    ru = "Лучшие цены на окна и двери в нашем магазине, звоните сегодня"
    on_en = filt.check(CommentRecord(text=ru, language="en"))
    on_ru = filt.check(CommentRecord(text=ru, language="ru"))
    assert on_en.score > on_ru.score
    assert "text in Cyrillic script on a page in 'en'" in texts(on_en)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01\x02",
        "\ud800\udc00\udfff broken surrogates",
        "x" * 3_000_000,
        "spam " * 400_000,
        "a.b" * 200_000,
        "🙂" * 100_000,
        "http://" + "a." * 100_000 + "com",
    ],
)
def test_bad_input_never_crashes(filt: SpamFilter, text: str) -> None:
    v = filt.check(CommentRecord(text=text))
    assert 0.0 <= v.score <= 1.0 and not math.isnan(v.score)
    assert v.klass in ("ham", "unsure", "spam", "discard")


@pytest.mark.parametrize("text", ["", "   ", "\u200b\n"])
def test_a_blank_text_is_no_evidence(filt: SpamFilter, text: str) -> None:
    """A check with no text (an Akismet signup check) is judged on what it has: the text
    block adds nothing, and the reason says so instead of naming a wording."""
    v = filt.check(CommentRecord(text=text, author="Grace", email="grace@example.org"))
    assert v.klass == "ham", v
    assert not any("wording" in r.text for r in v.reasons), v.reasons
    assert any(r.text == "no comment text" for r in v.reasons), v.reasons
    state = SiteState()
    filt.learn(CommentRecord(text=text, author="Spam Bot", email="bot@spam.example"), True, state)
    other = filt.check(CommentRecord(text=text, author="Ada"), state=state)
    assert not any("close to" in r.text for r in other.reasons), other.reasons  # nothing to match


def test_odd_optional_fields(filt: SpamFilter) -> None:
    rec = CommentRecord(
        text="hello", author="\ud800", email="not-an-email", website="::::", ip="999.1.1.1",
        user_agent="", language="xx-YY", seconds_to_submit=float("nan"), honeypot="",
        permalink="http://[::1/page",
    )  # fmt: skip
    v = filt.check(rec, state=SiteState())
    assert 0.0 <= v.score <= 1.0
    filt.learn(rec, is_spam=True, state=SiteState())
    for text, page in ((b"see https://example.com/a", "https://example.com/a"), ("x", 42)):
        odd = CommentRecord(text=text, permalink=page)  # type: ignore[arg-type]
        assert 0.0 <= filt.check(odd).score <= 1.0


# Texts of every shape the batched hashing has to keep apart: empty and one-character
# ones (no 4-gram shingle), URLs, digits, non-ASCII, styled and invisible characters.
VARIED = [
    HAM, SPAM, "", "ok", "a", " ", "\x00", "Привет, подпишитесь на мой канал",
    "𝗪𝗜𝗡 𝗙𝗥𝗘𝗘 cash", "fr\u200bee f r e e money", "call 09061701461 or text WIN to 87121",
    "see www.example.com/a?b=c and http://t.co/x", "I love this ❤️🔥" * 3, "x" * 2_000,
    "great song", "great song",
]  # fmt: skip


def varied_records() -> list[CommentRecord]:
    out = []
    for i, text in enumerate(VARIED):
        out.append(CommentRecord(text=text))
        out.append(
            CommentRecord(
                text=text, author="visit www.spam.example" if i % 3 else "Ann",
                email=f"u{i % 4}@mailinator.com", website="bit.ly/x" if i % 2 else None,
                ip=f"198.51.100.{i % 5}", user_agent="curl/8" if i % 4 == 0 else "Mozilla/5.0",
                language=("ru", "en", None)[i % 3], seconds_to_submit=float(i % 7),
            )
        )  # fmt: skip
    return out


def learned_state(filt: SpamFilter) -> SiteState:
    state = SiteState()
    for i, rec in enumerate(varied_records()[::3]):
        filt.learn(rec, is_spam=bool(i % 2), state=state)
    return state


@pytest.mark.parametrize("with_state", [False, True])
def test_check_many_matches_check(filt: SpamFilter, with_state: bool) -> None:
    # check is check_many of one record: the batched hashing must keep records apart.
    recs = varied_records()
    state = learned_state(filt) if with_state else None
    many = filt.check_many(recs, state=state)
    one_by_one = [filt.check(r, state=state) for r in recs]
    assert [v.to_dict() for v in many] == [v.to_dict() for v in one_by_one]
    assert filt.check_many([], state=state) == []
    if with_state:
        assert any("on this site" in r.text for v in many for r in v.reasons)


def test_margins_match_verdict_scores(filt: SpamFilter) -> None:
    texts = [r.text for r in varied_records()]
    margins = filt.margins(texts, chunk=7)
    scores = [v.score for v in filt.check_many(texts)]
    assert margins.shape == (len(texts),)
    # Verdicts add rules to the margin; bare texts get none.
    assert [round(1 / (1 + math.exp(-m)), 9) for m in margins] == [round(s, 9) for s in scores]


def test_thresholds() -> None:
    default = Thresholds.default()
    assert default == SpamFilter.load_default().thresholds
    assert 0 < default.unsure <= default.spam <= default.discard < 1
    with pytest.raises(ValueError):
        Thresholds(unsure=0.9, spam=0.5, discard=0.99)
    strict = Thresholds(unsure=0.0, spam=0.0, discard=1.0)
    assert SpamFilter.load_default().check(HAM, thresholds=strict).klass == "spam"


def test_cue_reasons_quote_the_matched_words(filt: SpamFilter) -> None:
    v = filt.check(CommentRecord(text="CHECK OUT my channel and subscribe, free giveaway, WIN"))
    assert "call to action: “check out”, “subscribe”" in texts(v)
    assert "lure words: “free”, “win”" in texts(v)
    assert "promotes the author's own channel, page or site" in texts(v)


def test_a_link_to_the_page_itself_is_not_a_link(filt: SpamFilter) -> None:
    page = "https://news.example.com/2026/11/budget-vote"
    plain = filt.check(CommentRecord(text="Worth reading twice, the budget part especially."))
    quoting = CommentRecord(
        text=f"Worth reading twice, the budget part especially. {page}", permalink=page
    )
    assert filt.check(quoting).score == pytest.approx(plain.score)
    elsewhere = CommentRecord(
        text="Worth reading twice, the budget part especially. https://cheap-pills.example/x",
        permalink=page,
    )
    verdict = filt.check(elsewhere)
    assert verdict.score > plain.score
    assert any(r.text == "1 link" for r in verdict.reasons)


# A news site's comments, written for this test (no corpus the model learned from is a news
# site): honest ones, many asking readers to do something, and spam of several genres and
# languages. Each honest one hidden as spam is the costliest error a comment engine makes.
NEWS_PAGE = "https://news.example.com/2026/11/budget-vote"
NEWS_HAM = (
    "The council's decision to cut bus routes will hurt elderly residents the most. Did "
    "anyone ask them?",
    "I disagree with the author. Inflation is not only driven by wages; energy prices "
    "matter far more here.",
    "Great article, thanks. One correction: the bridge opened in 1998, not 1996.",
    "My grandfather worked at that mill for 30 years. Sad to see it go.",
    "Free speech means nothing if only the loudest get heard. Good piece.",
    "Does anyone know if the recipe works with gluten-free flour?",
    "I tried this on my blog last year and wrote up the results: the second method was "
    "faster for me.",
    "Sources? The article claims 40% but the linked report says 14%.",
    "We paid $1,200 for the same repair in 2019. Prices are crazy.",
    "Très bon article, merci pour ces explications claires.",
    "Muy buen análisis, aunque creo que faltó hablar del impacto en el empleo.",
    "Danke für den Artikel! Genau das habe ich gesucht.",
    "Отличная статья, спасибо автору.",
    "This is the best explanation of the bug I've read. Subscribed to the newsletter.",
    "Call your representative and tell them to vote no on the bill!",
    "Check out the city's website for the new parking rules, they changed last week.",
    "You should check out the original study, it says something different.",
    "Check out the new parking rules, they changed last week.",
    "Go check out the comments on the other article, same debate.",
    "Please share this with everyone you know, people need to read it.",
    "Subscribe to their newsletter if you want the full data.",
    "Please like and share this article so more people know about the new law.",
    "Visit the museum if you can, the new exhibit is amazing.",
    "Follow the money. Always.",
)
NEWS_SPAM = (
    "Great post! I found a site with cheap essays, visit www.best-essays-cheap.xyz for 50% off",
    "Earn $500 per day working from home!!! Contact me on WhatsApp +1 555 123 4567",
    "Nice article. Buy viagra online no prescription http://pharma-deal.top",
    "I made $15,000 last month with bitcoin trading, message Mr. John on Telegram @cryptojohn",
    "Best online casino bonus 200% → https://bit.ly/3xYzAbc",
    "Заработок в интернете от 5000 рублей в день, пишите в телеграм",
    "Gana dinero desde casa, visita mi página http://ganar-dinero.online",
    "Hi, nice blog! I wrote something similar at my site, check it out: "
    "http://seo-links-4u.com/post?id=231",
    "𝗪𝗜𝗡 a free iPhone 15 now!! click here: tinyurl.com/freephone",
    "Loan approved in 24 hours, no credit check. Apply now at quick-loans.site",
    "Thanks for sharing. Our company offers professional SEO services, visit us at "
    "www.seo-rank-pro.com",
    "I was scammed but a recovery expert got my funds back. Email recoveryexpert@gmail.com",
)


def test_on_a_news_site_no_honest_comment_is_hidden(filt: SpamFilter) -> None:
    verdicts = [filt.check(CommentRecord(text=t, permalink=NEWS_PAGE)) for t in NEWS_HAM]
    hidden = [t for t, v in zip(NEWS_HAM, verdicts, strict=True) if v.klass in ("spam", "discard")]
    assert hidden == []


def test_on_a_news_site_most_spam_is_held_before_any_moderator_label(filt: SpamFilter) -> None:
    verdicts = [filt.check(CommentRecord(text=t, permalink=NEWS_PAGE)) for t in NEWS_SPAM]
    held = [t for t, v in zip(NEWS_SPAM, verdicts, strict=True) if v.klass in ("spam", "discard")]
    # The rest reach the moderation queue or the page; a moderator's label then teaches it.
    assert len(held) >= 10, [t for t in NEWS_SPAM if t not in held]
