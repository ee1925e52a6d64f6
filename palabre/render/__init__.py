"""Markdown to safe HTML, in one place for the API, feeds and importers.

mistune (fast, pure Python, CommonMark-ish) turns the comment's Markdown into HTML with raw
HTML escaped; nh3 (Rust's ammonia) then enforces an allow-list, so even a parser bug cannot
let a script, an event handler or a ``javascript:`` URL through. It runs once, when a comment
is written or edited; reads serve the stored HTML.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import mistune
import nh3

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "hr",
        "h3",
        "h4",
        "h5",
        "h6",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# C0/C1 controls except tab and newline, plus lone surrogates: never meaningful in a comment.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class _CommentRenderer(mistune.HTMLRenderer):
    """Images become plain links: no reader's browser loads a third party's pixel."""

    def image(self, text: str, url: str, title: str | None = None) -> str:
        return self.link(text or url, url, title)


@lru_cache(maxsize=1)
def _markdown() -> mistune.Markdown:
    return mistune.create_markdown(
        renderer=_CommentRenderer(escape=True),
        hard_wrap=True,
        plugins=["strikethrough", "url"],
    )


def clean_text(text: str) -> str:
    """Normalise what a reader typed before it is stored or rendered."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    # Built once: nh3.clean() rebuilds the allow-list on every call (43 µs against 17 µs
    # per comment here).
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def sanitize_html(fragment: str) -> str:
    """Allow-list sanitising of any HTML, whatever produced it."""
    return _cleaner().clean(fragment)


def render_markdown(text: str) -> str:
    """The comment body as it will be shown: Markdown rendered, then sanitised."""
    rendered = _markdown()(clean_text(text))
    assert isinstance(rendered, str)
    # Markdown headings in a comment would outrank the article's own; demote them.
    rendered = re.sub(r"<(/?)h[12]>", r"<\1h3>", rendered)
    return sanitize_html(rendered).strip()


def plain_text(fragment: str) -> str:
    """Text content of sanitised HTML, for feeds' summaries and search."""
    return html.unescape(nh3.clean(fragment, tags=set())).strip()
