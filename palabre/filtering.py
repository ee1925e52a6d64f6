"""Connects the spam-filter library to the store: per-site learned state shared by processes.

Each decision is appended to the ``spam_event`` log; every process replays the events it has
not seen, in id order, into its own in-memory state before the next verdict. ``learn`` in the
library is deterministic, so all instances converge on the same state without a shared blob
that concurrent writers could overwrite.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from palabre.spam import CommentRecord, SiteState, SpamFilter, Thresholds, Verdict
from palabre.store import Store

SHARED = -1  # state key when the operator lets all sites learn from each other
SNAPSHOT_EVERY = 200  # replayed events between two saved snapshots of a state


_RECORD_FIELDS = tuple(field.name for field in dataclasses.fields(CommentRecord))


def record_to_json(record: CommentRecord) -> dict[str, Any]:
    # Every field is a scalar, so a shallow read is exact; dataclasses.asdict deep-copies
    # and cost 24 µs of every post against 2 µs.
    return {name: v for name in _RECORD_FIELDS if (v := getattr(record, name)) is not None}


def record_from_json(data: dict[str, Any]) -> CommentRecord:
    return CommentRecord(**{k: v for k, v in data.items() if k in _RECORD_FIELDS})


class SpamService:
    def __init__(
        self,
        store: Store,
        *,
        share_learning: bool = False,
        thresholds: Thresholds | None = None,
        spam_filter: SpamFilter | None = None,
    ) -> None:
        self.store = store
        self.share_learning = share_learning
        self.thresholds = thresholds
        self._filter = spam_filter
        self._states: dict[int, SiteState] = {}
        self._applied: dict[int, int] = {}  # state key -> last event id replayed into it
        self._lock = threading.Lock()

    @property
    def filter(self) -> SpamFilter:
        if self._filter is None:
            self._filter = SpamFilter.load_default()
        return self._filter

    def _key(self, site_id: int) -> int:
        return SHARED if self.share_learning else site_id

    def _scope(self, key: int) -> list[int] | None:
        return None if key == SHARED else [key]

    def state(self, site_id: int) -> SiteState:
        """This site's learned state, caught up with every decision any process logged."""
        key = self._key(site_id)
        latest = self.store.spam_events.latest_id(self._scope(key))
        with self._lock:
            if key not in self._states:
                self._states[key], self._applied[key] = self._start_from_snapshot(key)
            state, applied = self._states[key], self._applied[key]
            if latest > applied:
                replayed = 0
                for event in self.store.spam_events.since(self._scope(key), applied):
                    self.filter.learn(record_from_json(event.record), event.is_spam, state=state)
                    applied = event.id
                    replayed += 1
                self._applied[key] = applied
                if applied // SNAPSHOT_EVERY > (applied - replayed) // SNAPSHOT_EVERY:
                    self.store.spam_events.save_snapshot(
                        key, self.filter.model.model_id(), applied, state.to_bytes()
                    )
            return state

    def _start_from_snapshot(self, key: int) -> tuple[SiteState, int]:
        saved = self.store.spam_events.snapshot(key, self.filter.model.model_id())
        if saved is None:
            return SiteState(), 0
        event_id, data = saved
        return SiteState.from_bytes(data), event_id

    def check(self, site_id: int, record: CommentRecord) -> Verdict:
        return self.filter.check(record, state=self.state(site_id), thresholds=self.thresholds)

    def learn(
        self,
        site_id: int,
        record: CommentRecord | dict[str, Any],
        is_spam: bool,
        *,
        source: str,
        actor: str = "",
        comment_id: int | None = None,
    ) -> None:
        """Log a decision, then apply it here at once (other processes pick it up on read)."""
        data = record if isinstance(record, dict) else record_to_json(record)
        self.store.spam_events.append(
            site_id, data, is_spam, source=source, actor=actor, comment_id=comment_id
        )
        self.state(site_id)
