"""Write-behind for the comment-check log and its usage counters.

A comment-check answers from the filter alone; logging it is one INSERT plus one counter
upsert. Done inline, 16 concurrent checks on SQLite queue on the database's single write
lock (and its busy-wait backoff), which the benchmark showed as a p99 in the hundreds of
milliseconds. Instead each check is queued here and a background thread writes whatever
has queued every ``interval`` seconds in one transaction.

Where the batch is written from matters. On SQLite, comment-check runs on the event loop
(see the router) and so does the flush, from a loop timer: a background thread there
would release and retake the GIL around every row the driver steps, and each handoff
stalled the loop thread (p99 65 ms instead of 19 ms in the benchmark on a busy machine).
Elsewhere (PostgreSQL, where checks run in the thread pool) a background thread writes.

Consistency: anything in this process that reads the log or the counters (submit-spam/ham,
usage-limit, key-sites) calls ``flush()`` first, so a client never misses its own check.
Another process sees a check at most ``interval`` later. On shutdown the queue is flushed.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import weakref

from palabre.store import Store
from palabre.store.akismet import CheckLog

log = logging.getLogger("palabre.akismet")
_WRITERS: weakref.WeakSet[CheckLogWriter] = weakref.WeakSet()


class CheckLogWriter:
    def __init__(
        self, store: Store, interval: float = 0.05, max_batch: int = 1000, on_loop: bool = False
    ) -> None:
        self.store = store
        self.on_loop = on_loop
        self._scheduled = False
        self.interval = interval
        self.max_batch = max_batch
        self._pending: list[tuple[CheckLog, str]] = []
        self._lock = threading.Lock()  # guards _pending
        self._flushing = threading.Lock()  # one batch in flight; flush() waits for it
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        _WRITERS.add(self)

    def add(self, check: CheckLog, month: str) -> None:
        with self._lock:
            self._pending.append((check, month))
            size = len(self._pending)
            if self.on_loop and self._schedule_on_loop():
                return
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="akismet-check-log", daemon=True
                )
                self._thread.start()
        if size >= self.max_batch:
            self._wake.set()

    def _schedule_on_loop(self) -> bool:
        """On the event loop's own thread: flush from a timer there. (Caller holds _lock.)"""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        if not self._scheduled:
            self._scheduled = True
            loop.call_later(self.interval, self._flush_on_loop)
        return True

    def _flush_on_loop(self) -> None:
        with self._lock:
            self._scheduled = False
        if not self.flush(wait=False):  # another process is writing: try again shortly
            with self._lock:
                self._schedule_on_loop()

    def flush(self, wait: bool = True) -> bool:
        """Write everything queued so far; returns once it is in the database. With
        ``wait=False`` a batch that meets a busy SQLite database goes back in the queue
        (and False is returned) instead of waiting for the lock."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return True
            by_month: dict[str, list[CheckLog]] = {}
            for check, month in batch:
                by_month.setdefault(month, []).append(check)
            for month, checks in by_month.items():
                try:
                    if not self.store.akismet.record_checks(checks, month, wait=wait):
                        with self._lock:
                            self._pending[:0] = [(c, month) for c in checks]
                        return False
                except Exception:
                    log.exception("could not write %d Akismet check(s); dropped", len(checks))
            return True

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.flush()


def flush_all() -> None:
    for writer in list(_WRITERS):
        writer.flush()


atexit.register(flush_all)
