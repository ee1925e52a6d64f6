"""Engine creation, SQLite tuning and schema migrations (Alembic, run at start-up)."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

MIGRATIONS = Path(__file__).parent / "migrations"
WRITE_OPTION = "palabre_write"
CHECKPOINT_INTERVAL = 0.5  # seconds between two background WAL checkpoints
RESTART_WAL_FRAMES = 1000  # SQLite's own auto-checkpoint size (pages of 4 KiB)
BUSY_TIMEOUT_MS = 10_000

log = logging.getLogger("palabre.store")


class WriterBusy(Exception):
    """Another writer holds SQLite's write lock; raised only when asked not to wait."""


def normalise_url(url: str) -> str:
    """Let operators write postgresql:// and still get the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _tune_sqlite(engine: sa.Engine, checkpointer: _WalCheckpointer | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" hook below own transactions instead of pysqlite.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if checkpointer is not None:
            # The background checkpointer copies the WAL into the database; left to SQLite,
            # the commit that crosses 1,000 pages would do it, with two fsyncs (~4 ms each
            # here), inside a request and while holding the writer lock.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            checkpointer.start()
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writers take the lock up front; a deferred BEGIN that upgrades to a write later
        # can fail with SQLITE_BUSY instead of waiting its turn.
        # Straight to the driver: through exec_driver_sql, BEGIN cost as much as the query
        # it opens for (every read of a thread's version, every write).
        immediate = conn.get_execution_options().get(WRITE_OPTION)
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(url: str) -> sa.Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        on_disk = bool(path) and path != ":memory:"
        if on_disk:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, pool_size=8, max_overflow=8)
        checkpointer = None
        if on_disk:
            checkpointer = _CHECKPOINTERS[id(engine)] = _WalCheckpointer(path)
        _tune_sqlite(engine, checkpointer)
        return engine
    # No pre-ping: it costs a round trip on every checkout (about 1 ms of each Akismet
    # check). A connection the server dropped is detected on use and the pool invalidated.
    return sa.create_engine(url, pool_size=8, max_overflow=4, pool_recycle=1800)


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    # Imported here: serve's worker processes never migrate, and Alembic costs them ~12 MiB.
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


class _WalCheckpointer:
    """Copies SQLite's write-ahead log into the database from a background thread, every
    ``interval`` seconds, and starts the log over once it is long (see ``checkpoint``).

    With several processes on one file each runs one; whichever gets there first does the
    work, and the others find little or nothing left to copy."""

    def __init__(self, path: str, interval: float = CHECKPOINT_INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="sqlite-checkpoint", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=0.05, check_same_thread=False)
        writers = _SqliteWriterLock(self.path)  # its own descriptor: flock excludes it too
        try:
            while not self._stop.wait(self.interval):
                self.checkpoint(conn, writers)
            self.checkpoint(conn, writers)
        finally:
            conn.close()

    @staticmethod
    def checkpoint(conn: sqlite3.Connection, writers: _SqliteWriterLock) -> None:
        """Copy the log without the writer lock; then, once it holds more than SQLite's own
        checkpoint size, start it over with the lock held.

        SQLite starts the log over only at a write that finds it fully copied, which racing
        busy writers never do: without the second step the log grew without bound (400 MB
        in 4 s of posts). After the first step little is left to copy, so writers wait for
        the second one only briefly."""
        try:
            _busy, logged, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if logged > RESTART_WAL_FRAMES:
                with writers:
                    conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        except sqlite3.Error as exc:  # busy or gone: the next round tries again
            log.debug("WAL checkpoint skipped: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)


_CHECKPOINTERS: dict[int, _WalCheckpointer] = {}


def dispose(engine: sa.Engine) -> None:
    """Close the pool and, on SQLite, checkpoint the WAL one last time and stop the thread."""
    checkpointer = _CHECKPOINTERS.pop(id(engine), None)
    if checkpointer is not None:
        checkpointer.stop()
    engine.dispose()


class _SqliteWriterLock:
    """SQLite takes one writer at a time. Writers queue here, in the threads of this process
    (a thread lock) and across processes such as uvicorn's workers (an flock on a file beside
    the database): a released lock wakes the next writer at once, where SQLite's own busy
    handler polls with back-off sleeps of up to 100 ms, which gave new comments a p99 near a
    second at 16 concurrent posts (bench/RESULTS.md). SQLite's locking still guarantees
    correctness; this only orders the waiting."""

    def __init__(self, database: str | None) -> None:
        self._thread = threading.Lock()
        self._path = f"{database}-writer.lock" if database and database != ":memory:" else None
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        self.acquire(wait=True)

    def acquire(self, wait: bool) -> None:
        """Take the lock; with ``wait=False`` raise WriterBusy instead of queueing."""
        if not self._thread.acquire(blocking=wait):
            raise WriterBusy
        try:
            if self._path is not None:
                if self._fd is None or self._pid != os.getpid():  # never share across fork()
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                    self._pid = os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._thread.release()
            raise WriterBusy from None
        except BaseException:
            self._thread.release()
            raise

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        try:
            if self._path is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()


_SQLITE_WRITERS: dict[int, _SqliteWriterLock] = {}


def writer_lock(engine: sa.Engine) -> _SqliteWriterLock | nullcontext[None]:
    if engine.dialect.name != "sqlite":
        return nullcontext()
    lock = _SQLITE_WRITERS.get(id(engine))
    if lock is None:
        lock = _SQLITE_WRITERS.setdefault(id(engine), _SqliteWriterLock(engine.url.database))
    return lock


@contextmanager
def write_transaction(engine: sa.Engine, *, wait: bool = True) -> Iterator[sa.Connection]:
    """One transaction for one logical write: all of it lands, or none of it.

    ``wait=False`` (SQLite) raises WriterBusy at once, before anything is written, when
    another writer holds the lock, so a caller on the event loop can hand the write to a
    thread instead of stalling every other request of its process."""
    lock = writer_lock(engine)
    if wait or not isinstance(lock, _SqliteWriterLock):
        with lock, _transaction(engine) as conn:
            yield conn
        return
    lock.acquire(wait=False)
    try:
        with _transaction(engine, busy_timeout_ms=0) as conn:
            yield conn
    finally:
        lock.release()


@contextmanager
def _transaction(engine: sa.Engine, busy_timeout_ms: int | None = None) -> Iterator[sa.Connection]:
    """A write transaction on a pooled connection; with ``busy_timeout_ms`` (SQLite), SQLite's
    own wait for its lock is that long for this transaction, and BUSY becomes WriterBusy."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_OPTION: True})
        if busy_timeout_ms is None:
            with conn.begin():
                yield conn
            return
        driver = conn.connection.driver_connection
        # A writer outside Palabre (an sqlite3 shell) does not take our lock; give up at
        # once rather than let SQLite's busy handler sleep on the event loop.
        driver.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        try:
            try:
                transaction = conn.begin()
            except (sa.exc.OperationalError, sqlite3.OperationalError) as exc:
                raise WriterBusy from exc
            with transaction:
                yield conn
        finally:
            driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def driver_mark(engine: sa.Engine) -> str:
    """The driver's placeholder for one parameter: sqlite3 takes ?, psycopg %s."""
    return "?" if engine.dialect.paramstyle == "qmark" else "%s"


def driver_read(engine: sa.Engine, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """One SELECT on the pooled driver connection, for the reads every request makes.

    SQLAlchemy's Connection wraps a statement in BEGIN and ROLLBACK and its own execution
    work, which cost several times a one-row query on SQLite (135 µs against 23 µs). One
    SELECT needs no explicit transaction; the pool rolls back what the driver opened."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.close()
    finally:
        raw.close()
    return rows


def insert_ignore(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> None:
    """INSERT that quietly does nothing when a unique key already exists (both engines)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(table).values(**values).on_conflict_do_nothing())
