"""Fixtures for the spam filter tests: the shipped filter and the shared labelled data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from palabre.spam import SpamFilter

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("PALABRE_TEST_DATA", ROOT.parent / "shared" / "data"))


def spam_data(name: str) -> Path:
    """A labelled CSV from the shared data, or a skip that says how to provide it."""
    path = DATA / "spam" / name
    if not path.is_file():
        pytest.skip(f"spam data {path} not found: set PALABRE_TEST_DATA to the shared data dir")
    return path


@pytest.fixture(scope="session")
def filt() -> SpamFilter:
    return SpamFilter.load_default()
