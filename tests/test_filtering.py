"""Filter state shared through the database: decisions on one process reach the others."""

from __future__ import annotations

import pytest

from palabre import filtering
from palabre.filtering import SpamService
from palabre.spam import CommentRecord
from palabre.store import Store

PROMO = "Earn money from home with my crypto course, message me on telegram @fastcash_mentor"


def promo(n: int) -> CommentRecord:
    return CommentRecord(text=f"{PROMO} {n}", author=f"Mentor {n}", ip=f"198.51.100.{n}")


def test_a_decision_on_one_process_changes_verdicts_on_another(store: Store) -> None:
    site = store.comments.ensure_site("blog")
    other_site = store.comments.ensure_site("other")
    here, there = SpamService(store), SpamService(store)
    before = there.check(site, promo(0)).score
    untouched = there.check(other_site, promo(0)).score
    for n in range(1, 6):
        here.learn(site, promo(n), True, source="test")
    assert there.check(site, promo(0)).score > before
    # Sites learn separately unless the operator shares learning.
    assert there.check(other_site, promo(0)).score == pytest.approx(untouched)
    shared = SpamService(store, share_learning=True)
    assert shared.check(other_site, promo(0)).score > untouched


def test_a_new_process_starts_from_a_snapshot(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filtering, "SNAPSHOT_EVERY", 3)
    site = store.comments.ensure_site("blog")
    writer = SpamService(store)
    for n in range(1, 8):
        writer.learn(site, promo(n), n % 2 == 0, source="test")
    model_id = writer.filter.model.model_id()
    saved = store.spam_events.snapshot(site, model_id)
    assert saved is not None and saved[0] >= 3
    late = SpamService(store)
    # Starting from the snapshot and replaying the rest gives the writer's exact state.
    assert late.state(site).to_bytes() == writer.state(site).to_bytes()
