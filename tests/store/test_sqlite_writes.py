"""SQLite's write path: the writer lock that never makes the event loop wait, and the
background WAL checkpoint, on a real database file and real processes."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from palabre.store import NewComment, Store, WriterBusy
from palabre.store.engine import CHECKPOINT_INTERVAL, write_transaction


def new(text: str) -> NewComment:
    return NewComment(author="Ada", text=text, html=f"<p>{text}</p>", status="approved")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'palabre.db'}")
    store.migrate()
    yield store
    store.close()


def comment_texts(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT text FROM comment ORDER BY id")]


def _hold_writer_lock(db: str, held: multiprocessing.Event, release: multiprocessing.Event) -> None:
    store = Store(f"sqlite:///{db}")
    with write_transaction(store.engine):
        held.set()
        release.wait(10)
    store.close()


def test_a_write_that_must_not_wait_gives_way_to_another_process_and_writes_nothing(
    sqlite_store: Store,
) -> None:
    site = sqlite_store.comments.ensure_site("blog")
    ctx = multiprocessing.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(
        target=_hold_writer_lock, args=(sqlite_store.engine.url.database, held, release)
    )
    holder.start()
    try:
        assert held.wait(30)
        started = time.perf_counter()
        with pytest.raises(WriterBusy):
            sqlite_store.comments.create_comment(site, "/a", "A", new("not now"), wait=False)
        assert time.perf_counter() - started < 0.5  # gave way at once, did not queue
    finally:
        release.set()
        holder.join(30)
    assert comment_texts(sqlite_store) == []
    # Once the other writer is done, the same call writes at once.
    sqlite_store.comments.create_comment(site, "/a", "A", new("now"), wait=False)
    assert comment_texts(sqlite_store) == ["now"]


def test_a_write_that_must_not_wait_gives_way_to_a_writer_outside_palabre(
    sqlite_store: Store,
) -> None:
    """An sqlite3 shell takes SQLite's lock but not Palabre's: SQLite's own busy handler
    (10 s) must not run either, and the connection keeps its normal timeout afterwards."""
    site = sqlite_store.comments.ensure_site("blog")
    outsider = sqlite3.connect(sqlite_store.engine.url.database, isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    try:
        started = time.perf_counter()
        with pytest.raises(WriterBusy):
            sqlite_store.comments.create_comment(site, "/a", "A", new("not now"), wait=False)
        assert time.perf_counter() - started < 0.5
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    sqlite_store.comments.create_comment(site, "/a", "A", new("now"), wait=False)
    assert comment_texts(sqlite_store) == ["now"]


def test_the_wal_is_copied_into_the_database_in_the_background(sqlite_store: Store) -> None:
    """No commit checkpoints (auto-checkpoint is off), so the database file itself only grows
    when the background thread copies the log into it."""
    site = sqlite_store.comments.ensure_site("blog")
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    database = Path(sqlite_store.engine.url.database)
    time.sleep(2 * CHECKPOINT_INTERVAL)  # whatever migrate wrote is copied by now
    size_before = database.stat().st_size
    for i in range(300):
        sqlite_store.comments.create_comment(site, f"/p{i % 7}", "A", new(f"comment {i} " * 20))
    deadline = time.monotonic() + 20 * CHECKPOINT_INTERVAL
    while database.stat().st_size == size_before and time.monotonic() < deadline:
        time.sleep(CHECKPOINT_INTERVAL / 5)
    assert database.stat().st_size > size_before


def wal_salt(database: Path) -> bytes:
    # Bytes 16-23 of the log's header: SQLite changes them each time it starts the log over.
    with open(f"{database}-wal", "rb") as log:
        return log.read(32)[16:24]


def test_a_log_that_writers_keep_appending_to_is_started_over(sqlite_store: Store) -> None:
    """Without the background thread's second step, SQLite never restarts a log that a busy
    writer keeps appending to, and the file grows without bound."""
    site = sqlite_store.comments.ensure_site("blog")
    database = Path(sqlite_store.engine.url.database)
    sqlite_store.comments.create_comment(site, "/a", "A", new("first"))
    salt = wal_salt(database)
    deadline = time.monotonic() + 20 * CHECKPOINT_INTERVAL
    written = 0
    while wal_salt(database) == salt and time.monotonic() < deadline:
        sqlite_store.comments.create_comment(site, f"/p{written % 7}", "A", new("x " * 200))
        written += 1
    assert wal_salt(database) != salt, f"log never started over in {written} writes"
    assert len(comment_texts(sqlite_store)) == written + 1


def test_closing_the_store_stops_its_checkpoint_thread(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'palabre.db'}")
    store.migrate()
    assert any(t.name == "sqlite-checkpoint" for t in threading.enumerate())
    before = sum(t.name == "sqlite-checkpoint" for t in threading.enumerate())
    store.close()
    assert sum(t.name == "sqlite-checkpoint" for t in threading.enumerate()) == before - 1
