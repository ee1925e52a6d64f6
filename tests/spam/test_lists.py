"""The embedded shortener list is our own; the shared CC-BY-SA list is only read here."""

from __future__ import annotations

from pathlib import Path

import pytest

from palabre.spam import CommentRecord, SpamFilter
from palabre.spam.features import BENIGN_SHORTENERS, SHORTENERS, extract

from .conftest import DATA

# Link-in-bio and branded-link services we count as shorteners although the shared list
# does not carry them.
NOT_IN_SHARED_LIST = {"linktr.ee", "short.io"}


def shared_list(name: str) -> set[str]:
    path: Path = DATA / "lists" / name
    if not path.is_file():
        pytest.skip(f"{path} not found: set PALABRE_TEST_DATA to the shared data dir")
    lines = path.read_text(encoding="utf-8").splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}


def test_embedded_shorteners_are_real_shorteners() -> None:
    known = shared_list("url-shorteners__list") | shared_list("url-shorteners__inactive")
    assert SHORTENERS - known == NOT_IN_SHARED_LIST


def test_subdomains_of_shorteners_count(filt: SpamFilter) -> None:
    f = extract("see http://x.bit.ly/abc and https://www.tinyurl.com/xyz")
    assert f.facts["shorteners"] == 2
    benign = extract("song: https://youtu.be/abc")
    assert benign.facts["shorteners"] == 0 and benign.facts["links"] == 1
    assert BENIGN_SHORTENERS <= SHORTENERS
    v = filt.check(CommentRecord(text="win big at http://cutt.ly/aa and http://rb.gy/bb"))
    assert any(r.text == "2 links to a URL shortener" for r in v.reasons)
