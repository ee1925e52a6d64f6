"""The store on a real SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from palabre.store import NewComment, Store, StoreError
from palabre.store.schema import comment, metadata, thread


def new(text: str = "hello", parent: int | None = None, status: str = "approved") -> NewComment:
    return NewComment(
        author="Ada",
        text=text,
        html=f"<p>{text}</p>",
        status=status,  # type: ignore[arg-type]
        parent_id=parent,
        ip="192.0.2.1",
    )


def test_migrations_build_exactly_the_declared_schema_and_rerun_cleanly(store: Store) -> None:
    store.migrate()  # a second run is a no-op
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite only")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_thread_is_created_once_and_replies_know_their_root(store: Store) -> None:
    site = store.comments.ensure_site("blog")
    assert store.comments.ensure_site("blog") == site
    first = store.comments.create_comment(site, "/a", "A", new())
    reply = store.comments.create_comment(site, "/a", "", new(parent=first["id"]))
    deeper = store.comments.create_comment(site, "/a", "", new(parent=reply["id"]))
    assert first["thread_id"] == reply["thread_id"] == deeper["thread_id"]
    assert (first["root_id"], first["depth"]) == (None, 0)  # a top-level comment is its root
    assert (reply["root_id"], reply["depth"]) == (first["id"], 1)
    assert (deeper["root_id"], deeper["depth"]) == (first["id"], 2)
    assert store.comments.find_thread(site, "/a")["title"] == "A"


def test_top_level_comments_that_name_themselves_as_root_still_nest(store: Store) -> None:
    """Databases written before 2026-11-25 hold a top-level comment's own id as its root."""
    site = store.comments.ensure_site("blog")
    legacy = store.comments.create_comment(site, "/old", "", new("legacy"))
    with store.engine.begin() as conn:
        conn.execute(
            comment.update().where(comment.c.id == legacy["id"]).values(root_id=legacy["id"])
        )
    reply = store.comments.create_comment(site, "/old", "", new("reply", parent=legacy["id"]))
    assert reply["root_id"] == legacy["id"]
    row = store.comments.find_thread(site, "/old")
    page = store.comments.thread_page(row, "oldest", 10, None)
    assert [c["id"] for c in page.comments] == [legacy["id"]]
    assert [r["id"] for r in page.comments[0]["replies"]] == [reply["id"]]


def test_a_refused_write_leaves_nothing_behind(store: Store) -> None:
    site = store.comments.ensure_site("blog")
    other = store.comments.create_comment(site, "/other", "", new())
    with pytest.raises(StoreError) as refused:
        store.comments.create_comment(site, "/fresh", "", new(parent=other["id"]))
    assert refused.value.field == "parent"
    # The thread insert in the same transaction was rolled back too.
    assert store.comments.find_thread(site, "/fresh") is None
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(comment)).scalar() == 1


def test_counts_many_pages_in_one_query(store: Store) -> None:
    site = store.comments.ensure_site("blog")
    for uri, n in (("/a", 3), ("/b", 1)):
        for _ in range(n):
            store.comments.create_comment(site, uri, "", new())
    store.comments.create_comment(site, "/b", "", new(status="pending"))
    assert store.comments.counts(site, ["/a", "/b", "/c"]) == {"/a": 3, "/b": 1, "/c": 0}


def test_writes_bump_the_thread_version(store: Store) -> None:
    site = store.comments.ensure_site("blog")
    created = store.comments.create_comment(site, "/v", "", new())
    before = store.comments.find_thread(site, "/v")["version"]
    store.comments.vote(created["id"], "voter", 1)
    store.comments.set_status([created["id"]], "spam")
    assert store.comments.find_thread(site, "/v")["version"] == before + 2


def test_concurrent_writers_all_land(store: Store) -> None:
    site = store.comments.ensure_site("blog")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                store.comments.create_comment(site, "/busy", "", new(f"{n}-{i}"))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert store.comments.counts(site, ["/busy"]) == {"/busy": 60}
    with store.engine.connect() as conn:
        threads = conn.execute(sa.select(sa.func.count()).select_from(thread)).scalar()
    assert threads == 1


def test_read_paths_use_indexes(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("plan text checked on SQLite; PostgreSQL plans are in bench/RESULTS.md")
    site = store.comments.ensure_site("blog")
    store.comments.create_comment(site, "/i", "", new())
    with store.engine.connect() as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM comment WHERE thread_id = 1 "
                "AND status IN ('approved','deleted') AND parent_id IS NULL "
                "ORDER BY created, id LIMIT 51"
            )
        )
    assert "USING INDEX" in plan and "SCAN comment" not in plan.replace("USING INDEX", "")


def test_spam_snapshots_keep_the_newest_per_model(store: Store) -> None:
    events = store.spam_events
    assert events.snapshot(1, "model-a") is None
    events.save_snapshot(1, "model-a", 10, b"ten")
    events.save_snapshot(1, "model-a", 5, b"older, must not win")
    events.save_snapshot(1, "model-b", 3, b"other model")
    assert events.snapshot(1, "model-a") == (10, b"ten")
    events.save_snapshot(1, "model-a", 12, b"twelve")
    assert events.snapshot(1, "model-a") == (12, b"twelve")
    assert events.snapshot(1, "model-b") == (3, b"other model")
