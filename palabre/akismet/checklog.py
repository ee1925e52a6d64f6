"""Write-behind for the comment-check log and its usage counters.

A comment-check answers from the filter alone; logging it is one INSERT plus one counter
upsert. Done inline, 16 concurrent checks on SQLite queue on the database's single write
lock (and its busy-wait backoff), which the benchmark showed as a p99 in the hundreds of
milliseconds. Instead each check is queued here and a background thread writes whatever
has queued every ``interval`` seconds in one transaction.

The writer is a background thread, so the event loop never waits on the database (on a
busy machine each of the few syscalls of a commit could cost it a scheduling quantum: a
flush run from a loop timer measured p99 40 ms against 31 ms from a thread). For SQLite
the store writes each batch as one multi-row INSERT, because the driver releases and
retakes the GIL around every statement it steps: row-by-row executemany made this thread
take the GIL from the loop thread twice per row (p99 65 ms in the same benchmark).

Consistency: anything in this process that reads the log or the counters (submit-spam/ham,
usage-limit, key-sites) calls ``flush()`` first, so a client never misses its own check.
Another process sees a check at most ``interval`` later. On shutdown the queue is flushed.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref

from palabre.store import Store
from palabre.store.akismet import CheckLog

log = logging.getLogger("palabre.akismet")
_WRITERS: weakref.WeakSet[CheckLogWriter] = weakref.WeakSet()


class CheckLogWriter:
    def __init__(self, store: Store, interval: float = 0.05, max_batch: int = 1000) -> None:
        self.store = store
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
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="akismet-check-log", daemon=True
                )
                self._thread.start()
        if size >= self.max_batch:
            self._wake.set()

    def flush(self) -> None:
        """Write everything queued so far; returns once it is in the database."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            by_month: dict[str, list[CheckLog]] = {}
            for check, month in batch:
                by_month.setdefault(month, []).append(check)
            for month, checks in by_month.items():
                try:
                    self.store.akismet.record_checks(checks, month)
                except Exception:
                    log.exception("could not write %d Akismet check(s); dropped", len(checks))

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
