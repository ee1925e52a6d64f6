"""Bulk loading of threads and comments: benchmarks, demos and large imports.

The normal write path (``CommentStore.create_comment``) costs several statements per
comment, which is right for one reader's comment and far too slow for a million. This loader
assigns ids itself, computes ``root_id`` and ``depth`` from each comment's parent, and
writes big batches, one transaction each: ``COPY ... FROM STDIN`` on PostgreSQL, one
``executemany`` on SQLite. Markdown is rendered once per distinct text.

Input is duck-typed: any iterable of threads with ``uri``, ``title`` and ``comments``,
each comment with ``author``, ``email``, ``website``, ``text``, ``created`` (aware UTC),
``parent`` (the index of its parent in the same thread's list, or None) and ``votes``.
Parents must come before their replies. Every comment is stored as approved.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import click
import sqlalchemy as sa

from palabre.store.engine import writer_lock
from palabre.store.schema import comment, thread
from palabre.timeutil import utcnow


class CommentLike(Protocol):
    author: str
    email: str | None
    website: str | None
    text: str
    created: datetime
    parent: int | None
    votes: int


class ThreadLike(Protocol):
    uri: str
    title: str
    comments: Sequence[CommentLike]


@dataclass(frozen=True, slots=True)
class BulkResult:
    threads: int
    comments: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.comments / self.seconds if self.seconds else 0.0


THREAD_COLUMNS = ("id", "site_id", "uri", "title", "created", "version")
COMMENT_COLUMNS = (
    "id", "thread_id", "parent_id", "root_id", "depth", "status", "author", "email",
    "avatar", "website", "text", "html", "created", "votes",
)  # fmt: skip


class BulkLoader:
    """Appends new threads (their URIs must not exist yet on this site) with their comments."""

    def __init__(
        self,
        engine: sa.Engine,
        site_id: int,
        *,
        batch_size: int = 20_000,
        render: Callable[[str], str] | None = None,
        avatar: Callable[[str | None, str], str] | None = None,
        progress: bool = True,
        label: str = "seeding comments",
    ) -> None:
        if render is None:
            from palabre.render import render_markdown

            render = render_markdown
        self.engine = engine
        self.site_id = site_id
        self.batch_size = batch_size
        self.render = render
        self.avatar = avatar
        self.progress = progress
        self.label = label
        self._html: dict[str, str] = {}
        self.dialect = engine.dialect.name

    def _html_of(self, text: str) -> str:
        html = self._html.get(text)
        if html is None:
            html = self.render(text)
            if len(self._html) < 50_000:
                self._html[text] = html
        return html

    def load(self, threads: Iterable[ThreadLike], total_comments: int | None = None) -> BulkResult:
        started = time.perf_counter()
        with self.engine.connect() as conn:
            next_thread = (conn.execute(sa.select(sa.func.max(thread.c.id))).scalar() or 0) + 1
            next_comment = (conn.execute(sa.select(sa.func.max(comment.c.id))).scalar() or 0) + 1
        thread_rows: list[tuple[Any, ...]] = []
        comment_rows: list[tuple[Any, ...]] = []
        n_threads = n_comments = 0
        bar = None
        if self.progress and total_comments:
            bar = click.progressbar(length=total_comments, label=self.label, file=sys.stderr,
                                    show_pos=True, width=30)  # fmt: skip
            bar.__enter__()
        try:
            for item in threads:
                comments = item.comments
                created = comments[0].created if comments else utcnow()
                thread_id = next_thread
                next_thread += 1
                thread_rows.append((thread_id, self.site_id, item.uri, item.title, created, 0))
                ids: list[int] = []
                roots: list[int] = []
                depths: list[int] = []
                for c in comments:
                    comment_id = next_comment
                    next_comment += 1
                    if c.parent is None:
                        parent_id, root_id, depth = None, comment_id, 0
                    else:
                        parent_id, root_id = ids[c.parent], roots[c.parent]
                        depth = depths[c.parent] + 1
                    ids.append(comment_id)
                    roots.append(root_id)
                    depths.append(depth)
                    avatar = self.avatar(c.email, c.author) if self.avatar else ""
                    comment_rows.append((
                        comment_id, thread_id, parent_id, parent_id and root_id, depth, "approved",
                        c.author, c.email, avatar, c.website, c.text, self._html_of(c.text),
                        c.created, c.votes,
                    ))  # fmt: skip
                n_threads += 1
                n_comments += len(comments)
                if len(comment_rows) >= self.batch_size:
                    self._flush(thread_rows, comment_rows)
                    if bar is not None:
                        bar.update(len(comment_rows))
                    thread_rows, comment_rows = [], []
            if thread_rows:
                self._flush(thread_rows, comment_rows)
                if bar is not None:
                    bar.update(len(comment_rows))
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        self._finish()
        return BulkResult(n_threads, n_comments, time.perf_counter() - started)

    # -- per database ------------------------------------------------------------------

    def _flush(
        self, thread_rows: list[tuple[Any, ...]], comment_rows: list[tuple[Any, ...]]
    ) -> None:
        if self.dialect == "postgresql":
            self._flush_postgres(thread_rows, comment_rows)
        else:
            self._flush_sqlite(thread_rows, comment_rows)

    def _flush_postgres(self, thread_rows: list[tuple[Any, ...]],
                        comment_rows: list[tuple[Any, ...]]) -> None:  # fmt: skip
        raw = self.engine.raw_connection()
        try:
            pg = raw.driver_connection
            with pg.cursor() as cur:
                with cur.copy(f"COPY thread ({', '.join(THREAD_COLUMNS)}) FROM STDIN") as copy:
                    for row in thread_rows:
                        copy.write_row(row)
                with cur.copy(f"COPY comment ({', '.join(COMMENT_COLUMNS)}) FROM STDIN") as copy:
                    for row in comment_rows:
                        copy.write_row(row)
            pg.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def _flush_sqlite(self, thread_rows: list[tuple[Any, ...]],
                      comment_rows: list[tuple[Any, ...]]) -> None:  # fmt: skip
        to_db = thread.c.created.type.bind_processor(self.engine.dialect)
        assert to_db is not None
        threads = [(*r[:4], to_db(r[4]), r[5]) for r in thread_rows]
        comments = [(*r[:12], to_db(r[12]), r[13]) for r in comment_rows]
        # Palabre's writer lock, like every writer: a running server's posts queue behind a
        # batch instead of sleeping in SQLite's busy handler, and the checkpointer gets its
        # turn between batches (else the log of a million-comment import grows unchecked).
        with writer_lock(self.engine):
            self._write_sqlite_batch(threads, comments)

    def _write_sqlite_batch(self, threads: list[tuple[Any, ...]],
                            comments: list[tuple[Any, ...]]) -> None:  # fmt: skip
        raw = self.engine.raw_connection()
        try:
            db = raw.driver_connection
            db.execute("PRAGMA cache_size=-262144")  # 256 MiB for the index pages
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(_insert_sql("thread", THREAD_COLUMNS), threads)
                db.executemany(_insert_sql("comment", COMMENT_COLUMNS), comments)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            raw.close()

    def _finish(self) -> None:
        """Sequences past the ids we assigned (PostgreSQL) and fresh planner statistics."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                for table in ("thread", "comment"):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                conn.exec_driver_sql("ANALYZE thread, comment")
            else:
                conn.exec_driver_sql("ANALYZE")
            conn.commit()


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
