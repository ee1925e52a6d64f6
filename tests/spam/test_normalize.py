from __future__ import annotations

import re
import sys

import pytest

from palabre.spam.normalize import MAX_CHARS, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("𝗪𝗜𝗡 a 𝓯𝓻𝓮𝓮 iPhone", "WIN a free iPhone"),
        ("ｆｒｅｅ　ｍｏｎｅｙ", "free money"),
        ("🅵🆁🅴🅴 ⓒⓐⓢⓗ", "FREE cash"),
        ("f r e e  m o n e y now", "free money now"),
        ("c.l.i.c.k here", "click here"),
        ("fr\u200bee mo\u200dney\u2060!", "free money!"),
        ("&quot;Great&quot; song&#39;s<br />second line", '"Great" song\'s second line'),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
        ("line\x00one\x07two", "line one two"),
        ("\ufeffhello\ufeff", "hello"),
        ("soooooooo goooood!!!!!!!!", "sooo goood!!!"),
    ],
)
def test_normalises_tricks(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_confusables_only_inside_mixed_words() -> None:
    # "Сheck" and "сhannel" start with Cyrillic С/с; real Russian is left untouched.
    n = normalize("Сheck my сhannel, Привет как дела")
    assert n.text == "Check my channel, Привет как дела"
    assert n.confusable_words == 2


def test_tricks_are_counted_as_evidence() -> None:
    n = normalize("𝗪𝗜𝗡 fr\u200bee f r e e")
    assert n.styled == 3
    assert n.invisible == 1
    assert n.spaced_runs == 1
    assert normalize("plain text").styled == 0


@pytest.mark.parametrize(
    "raw", ["", None, b"\xff\xfe bytes", "\ud800 lone surrogate \udfff", 12345, "\x00" * 50]
)
def test_bad_input_never_raises(raw: object) -> None:
    n = normalize(raw)
    assert isinstance(n.text, str)
    n.text.encode("utf-8")  # always valid UTF-8 afterwards


def test_long_input_truncated() -> None:
    n = normalize("word " * 1_000_000)
    assert n.truncated
    assert len(n.text) <= MAX_CHARS


def test_white_space_is_what_str_split_and_re_agree_on() -> None:
    # normalize() collapses white space with str.split(); the training data were once
    # normalised with re's \s, and a model must see the same text whichever was used.
    ws = re.compile(r"\s")
    points = (chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    assert [c for c in points if bool(ws.fullmatch(c)) != c.isspace()] == []
    assert normalize(" a\u00a0\u2003b\x1c c\u3000\n").text == "a b c"
