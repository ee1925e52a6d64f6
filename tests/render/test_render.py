"""Markdown rendering and sanitising: examples, then properties over arbitrary input."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palabre.render import clean_text, render_markdown, sanitize_html

FORBIDDEN_TAGS = {"script", "iframe", "svg", "img", "style", "object", "embed", "math", "form"}
DANGEROUS_SCHEMES = ("javascript:", "data:", "vbscript:")


class _Elements(HTMLParser):
    """Collects the real elements and attributes a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def assert_safe(html: str) -> None:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.found:
        assert tag not in FORBIDDEN_TAGS, html
        for name, value in attrs:
            assert not name.startswith("on"), html
            if name in ("href", "src", "action", "formaction"):
                squeezed = "".join((value or "").split()).lower()
                assert not squeezed.startswith(DANGEROUS_SCHEMES), html


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("**bold** and *em*", "<p><strong>bold</strong> and <em>em</em></p>"),
        ("~~gone~~", "<p><del>gone</del></p>"),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
        (
            "[site](https://example.org)",
            '<p><a href="https://example.org" rel="nofollow ugc noopener">site</a></p>',
        ),
        ("# Heading", "<h3>Heading</h3>"),
        (
            "![pixel](https://tracker.example/p.gif)",
            '<p><a href="https://tracker.example/p.gif" rel="nofollow ugc noopener">pixel</a></p>',
        ),
        ("<b>raw html</b>", "<p>&lt;b&gt;raw html&lt;/b&gt;</p>"),
    ],
)
def test_markdown_examples(markdown: str, expected: str) -> None:
    assert render_markdown(markdown) == expected


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '<img src=x onerror="alert(1)">',
        "<svg/onload=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "<<script>script>alert(1)<</script>/script>",
        '[x](https://ok.example "title" onmouseover=alert(1))',
        "<style>body{display:none}</style>",
        "`<script>` in code stays escaped",
    ],
)
def test_known_attacks_come_out_inert(payload: str) -> None:
    assert_safe(render_markdown(payload))


def test_sanitiser_strips_what_markdown_could_not_produce() -> None:
    dirty = '<p onclick="x()">hi <a href="javascript:x()">a</a><iframe src="//e"></iframe></p>'
    clean = sanitize_html(dirty)
    assert_safe(clean)
    assert clean.startswith("<p>hi")


def test_control_characters_and_surrogates_are_removed() -> None:
    assert clean_text("a\x00b\x1bc\ud800d\r\ne") == "abcd\ne"


MARKUP_BITS = st.sampled_from(
    [
        "<",
        ">",
        '"',
        "'",
        "=",
        "/",
        "script",
        "javascript:",
        "on",
        "error",
        "load",
        "(",
        ")",
        "[",
        "]",
        "!",
        "`",
        "*",
        "_",
        "&",
        "#",
        ";",
        "data:",
        "svg",
        "img",
        "src",
        "href",
        " ",
        "\n",
        "\t",
        "\x00",
        "\u200b",
        "\ufeff",
        "%3C",
        "&#x3C;",
        "&lt;",
        "vbscript:",
        "\\",
    ]
)
ARBITRARY_TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(MARKUP_BITS, st.text(max_size=5)), max_size=60).map("".join),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ARBITRARY_TEXT)
def test_no_input_yields_script_handler_or_javascript_url(text: str) -> None:
    assert_safe(render_markdown(text))


@settings(max_examples=300, deadline=None)
@given(ARBITRARY_TEXT)
def test_sanitiser_output_is_safe_for_any_html(text: str) -> None:
    assert_safe(sanitize_html(text))
