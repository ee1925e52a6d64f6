"""Text normalisation that undoes the usual tricks spammers use to dodge word filters.

The output is what the feature extractor sees; the original text is still used for
"shape" signals (capitals, styled letters), so the tricks themselves become evidence.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass

# Long inputs are cut before any work so a megabyte comment costs the same as a long one.
MAX_CHARS = 20_000

# Cyrillic and Greek letters that look like Latin ones. Only applied inside words that
# also contain Latin letters, so genuine Russian or Greek text is left alone.
_CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
    "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ո": "n", "ս": "u",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J",
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}  # fmt: skip
_CONFUSABLE_SET = frozenset(_CONFUSABLES)
_WORD = re.compile(r"\w+")
_LATIN = re.compile(r"[A-Za-z]")

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]{0,200}>")
_SPACED = re.compile(r"(?<![\w])(?:[^\W_][ .\-_*·]){3,200}[^\W_](?![\w])")
_SPACED_SEP = re.compile(r"[ .\-_*·]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_REPEAT = re.compile(r"(.)\1{3,}")


def _enclosed_letter(cp: int) -> str | None:
    """Letters in boxes and circles that NFKC leaves alone (🅰, 🅐, regional indicators)."""
    for start in (0x1F150, 0x1F170, 0x1F1E6):
        if start <= cp < start + 26:
            return chr(ord("A") + cp - start)
    return None


_STYLED, _INVISIBLE = 1, 2
# Printable ASCII is left as it is; everything else goes through _fold_char.
_PLAIN_ASCII = frozenset(map(chr, range(0x20, 0x7F)))


@functools.lru_cache(maxsize=8192)
def _fold_char(ch: str) -> tuple[str, int]:
    """What one character of a non-ASCII text becomes, and the trick it undid (0 if none)."""
    cat = unicodedata.category(ch)
    if cat == "Cf":
        return "", _INVISIBLE
    if cat == "Cc" or cat == "Cs":
        return " ", 0
    if ch.isascii():
        return ch, 0
    enclosed = _enclosed_letter(ord(ch))
    if enclosed is not None:
        return enclosed, _STYLED
    norm = unicodedata.normalize("NFKC", ch)
    return norm, _STYLED if norm != ch and norm.isascii() and norm.isalnum() else 0


def _fold(text: str) -> tuple[str, int, int]:
    """Fold a non-ASCII text character by character: (text, styled count, invisible count).

    The work is per distinct character and str.translate does the rest in C: a comment
    repeats few characters, and a Python loop over all of them was most of normalize().
    """
    table: dict[int, str] = {}
    styled: set[str] = set()
    invisible: set[str] = set()
    for ch in set(text) - _PLAIN_ASCII:
        table[ord(ch)], trick = _fold_char(ch)
        if trick == _STYLED:
            styled.add(ch)
        elif trick == _INVISIBLE:
            invisible.add(ch)
    # One linear pass per kind of trick (text.count per character could be quadratic).
    n_styled = sum(map(styled.__contains__, text)) if styled else 0
    n_invisible = sum(map(invisible.__contains__, text)) if invisible else 0
    return text.translate(table), n_styled, n_invisible


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text plus counts of the tricks that were undone (each one is evidence)."""

    text: str  # cleaned, NFKC, de-confused; original case kept
    styled: int  # characters changed by NFKC or enclosed-letter mapping (𝗪𝗜𝗡, full-width)
    invisible: int  # zero-width / format characters removed
    confusable_words: int  # words mixing Latin with look-alike letters
    spaced_runs: int  # "f r e e" style runs collapsed
    truncated: bool


def safe_text(text: object) -> str:
    """Any input to a valid, bounded str: lone surrogates and bad bytes become U+FFFD."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    elif not isinstance(text, str):
        text = str(text)
    text = text[: MAX_CHARS * 2]
    if text.isascii():  # O(1) in CPython, and ASCII holds no surrogate to replace
        return text
    return text.encode("utf-8", "replace").decode("utf-8", "replace")


def normalize(raw: object) -> Normalized:
    text = safe_text(raw)
    truncated = len(text) > MAX_CHARS
    text = text[:MAX_CHARS]
    # Entities twice: some sources double-escape (&amp;quot;).
    text = html.unescape(html.unescape(text))
    text = _TAG.sub(" ", text)
    # A byte-order mark at either end is an artefact of copy/paste and of some sources,
    # not an evasion trick: drop it before counting invisible characters.
    text = text.strip("\ufeff \t\r\n")

    # Fast path: plain ASCII needs only control-character cleaning.
    if text.isascii():
        text = _CONTROL.sub(" ", text)
        styled = invisible = 0
    else:
        text, styled, invisible = _fold(text)

    confusable_words = 0

    def _fix(m: re.Match[str]) -> str:
        # Linear per word (a single regex for "mixed word" backtracks badly on long words).
        nonlocal confusable_words
        word = m.group(0)
        if _CONFUSABLE_SET.isdisjoint(word) or not _LATIN.search(word):
            return word
        confusable_words += 1
        return "".join(_CONFUSABLES.get(c, c) for c in word)

    if not _CONFUSABLE_SET.isdisjoint(text):
        text = _WORD.sub(_fix, text)

    spaced_runs = 0

    def _join(m: re.Match[str]) -> str:
        nonlocal spaced_runs
        spaced_runs += 1
        return _SPACED_SEP.sub("", m.group(0))

    text = _SPACED.sub(_join, text)
    # "!!!!!!!!" and "soooooo" carry no more meaning after the fourth repeat.
    text = _REPEAT.sub(r"\1\1\1", text)
    # Runs of white space to one space: str.split() and re's \s agree on what white space
    # is (every code point checked), and split/join is 4x faster than _WS.sub + strip.
    text = " ".join(text.split())
    return Normalized(text, styled, invisible, confusable_words, spaced_runs, truncated)
