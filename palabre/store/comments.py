"""Threads, comments and votes: every query the public API and the admin need."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
import sqlalchemy as sa

from palabre.store.engine import driver_mark, driver_read, insert_ignore, write_transaction
from palabre.store.schema import UtcDateTime, comment, site, thread, vote
from palabre.timeutil import utcnow

Sort = Literal["oldest", "newest", "top"]
Status = Literal["approved", "pending", "spam", "deleted"]
STATUSES: tuple[Status, ...] = ("approved", "pending", "spam", "deleted")
PUBLIC_COLUMNS = (
    comment.c.id,
    comment.c.parent_id,
    comment.c.root_id,
    comment.c.depth,
    comment.c.status,
    comment.c.author,
    comment.c.avatar,
    comment.c.website,
    comment.c.html,
    comment.c.created,
    comment.c.edited,
    comment.c.votes,
)


# The thread lookup every page view runs, built once: building a statement costs more than
# running it (half of a thread lookup's 120 µs; bench/RESULTS.md, "Profile").
_FIND_THREAD = sa.select(thread).where(
    thread.c.site_id == sa.bindparam("site_id"), thread.c.uri == sa.bindparam("uri")
)

_COUNTS_SQL = (
    "SELECT thread.uri, count(comment.id) FROM thread JOIN comment "
    "ON comment.thread_id = thread.id AND comment.status = 'approved' "
    "WHERE thread.site_id = {site} AND thread.uri IN ({uris}) GROUP BY thread.uri"
)

# The statements of one new comment, likewise (values go in as execution parameters).
# Bumping the version first hands back the thread row, so no separate lookup is needed.
_BUMP_THREAD_BY_URI = (
    thread.update()
    .where(thread.c.site_id == sa.bindparam("in_site"), thread.c.uri == sa.bindparam("in_uri"))
    .values(version=thread.c.version + 1)
    .returning(thread.c.id, thread.c.title)
)
_INSERT_COMMENT = comment.insert().returning(*comment.c)
_BUMP = (
    thread.update().where(thread.c.id == sa.bindparam("tid")).values(version=thread.c.version + 1)
)
_GET_COMMENT = (
    sa.select(comment, thread.c.uri, thread.c.site_id, thread.c.title)
    .join(thread, thread.c.id == comment.c.thread_id)
    .where(comment.c.id == sa.bindparam("cid"))
)

# What an erased comment keeps: its place in the thread, nothing about its author.
SCRUBBED: dict[str, Any] = {
    "text": "",
    "html": "",
    "author": "",
    "email": None,
    "website": None,
    "avatar": "",
    "ip": None,
    "user_agent": None,
    "spam_record": None,
}


class StoreError(Exception):
    """A write was refused; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class NewComment:
    author: str
    text: str
    html: str
    status: Status
    parent_id: int | None = None
    email: str | None = None
    avatar: str = ""
    website: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    spam_score: float | None = None
    spam_class: str | None = None
    spam_reasons: list[dict[str, Any]] | None = None
    spam_record: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ThreadPage:
    thread: dict[str, Any]
    comments: list[dict[str, Any]]  # top-level comments, replies nested under "replies"
    next_cursor: str | None


def _encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, int]:
    """Raise ValueError for anything that is not a cursor this API handed out."""
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        key, comment_id = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except Exception as exc:
        raise ValueError("not a cursor returned by this API") from exc
    if not isinstance(comment_id, int):
        raise ValueError("not a cursor returned by this API")
    if sort == "top":
        if not isinstance(key, int):
            raise ValueError("cursor does not match sort=top")
        return key, comment_id
    if not isinstance(key, str):
        raise ValueError(f"cursor does not match sort={sort}")
    return datetime.fromisoformat(key), comment_id


class CommentStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- sites and threads -------------------------------------------------------------

    def ensure_site(self, name: str) -> int:
        with write_transaction(self.engine) as conn:
            insert_ignore(conn, site, {"name": name, "created": utcnow()})
            return conn.execute(sa.select(site.c.id).where(site.c.name == name)).scalar_one()

    def site_ids(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {row.name: row.id for row in conn.execute(sa.select(site.c.name, site.c.id))}

    def find_thread(self, site_id: int, uri: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return self._thread_row(conn, site_id, uri)

    @staticmethod
    def _thread_row(conn: sa.Connection, site_id: int, uri: str) -> dict[str, Any] | None:
        row = conn.execute(_FIND_THREAD, {"site_id": site_id, "uri": uri}).first()
        return dict(row._mapping) if row else None

    @staticmethod
    def _bump(conn: sa.Connection, thread_id: int) -> None:
        conn.execute(_BUMP, {"tid": thread_id})

    # -- writing -----------------------------------------------------------------------

    def create_comment(
        self, site_id: int, uri: str, title: str, new: NewComment, *, wait: bool = True
    ) -> dict[str, Any]:
        """Create the thread on its first comment and the comment, in one transaction.

        Posting is the busiest write, so it takes two statements: bump the thread's version
        (which also finds it) and insert the comment, returning its row. ``wait=False``:
        raise WriterBusy, having written nothing, if another writer holds SQLite's lock."""
        now = utcnow()
        where = {"in_site": site_id, "in_uri": uri}
        with write_transaction(self.engine, wait=wait) as conn:
            current = conn.execute(_BUMP_THREAD_BY_URI, where).first()
            if current is None:  # the first comment of this page
                new_thread = {"site_id": site_id, "uri": uri, "title": title, "created": now}
                insert_ignore(conn, thread, new_thread)
                current = conn.execute(_BUMP_THREAD_BY_URI, where).one()
            thread_id, thread_title = current
            if title and not thread_title:
                conn.execute(thread.update().where(thread.c.id == thread_id).values(title=title))
                thread_title = title
            root_id, depth = None, 0
            if new.parent_id is not None:
                root_id, depth = self._check_parent(conn, thread_id, new.parent_id)
            values = {
                "thread_id": thread_id,
                "parent_id": new.parent_id,
                "root_id": root_id,
                "depth": depth,
                "status": new.status,
                "author": new.author,
                "email": new.email,
                "avatar": new.avatar,
                "website": new.website,
                "text": new.text,
                "html": new.html,
                "ip": new.ip,
                "user_agent": new.user_agent,
                "created": now,
                "spam_score": new.spam_score,
                "spam_class": new.spam_class,
                "spam_reasons": new.spam_reasons,
                "spam_record": new.spam_record,
            }
            row = conn.execute(_INSERT_COMMENT, values).one()._mapping
            return {**row, "uri": uri, "site_id": site_id, "title": thread_title}

    @staticmethod
    def _check_parent(conn: sa.Connection, thread_id: int, parent_id: int) -> tuple[int, int]:
        parent = conn.execute(
            sa.select(
                comment.c.thread_id, comment.c.root_id, comment.c.depth, comment.c.status
            ).where(comment.c.id == parent_id)
        ).first()
        if parent is None or parent.status in ("spam", "pending"):
            raise StoreError("parent", f"comment {parent_id} does not exist")
        if parent.thread_id != thread_id:
            raise StoreError("parent", f"comment {parent_id} belongs to another page")
        root_id = parent_id if parent.root_id is None else parent.root_id  # a top-level parent
        return root_id, parent.depth + 1

    def update_comment(
        self, comment_id: int, *, text: str, html: str, author: str | None, website: str | None
    ) -> dict[str, Any]:
        values: dict[str, Any] = {"text": text, "html": html, "edited": utcnow()}
        if author is not None:
            values["author"] = author
        if website is not None:
            values["website"] = website or None
        with write_transaction(self.engine) as conn:
            self._change(conn, comment_id, values, comment.c.status != "deleted")
            return self._get(conn, comment_id)

    def delete_comment(self, comment_id: int, *, scrub: bool) -> None:
        """Mark deleted; readers see a placeholder only where replies hang below it.

        ``scrub`` (an author deleting their own words) also wipes text and identity;
        a moderator's delete keeps them so it can be undone.
        """
        values: dict[str, Any] = {"status": "deleted"}
        if scrub:
            values |= SCRUBBED
        with write_transaction(self.engine) as conn:
            self._change(conn, comment_id, values)

    def _change(
        self, conn: sa.Connection, comment_id: int, values: dict[str, Any], *conditions: Any
    ) -> None:
        """Update one comment and bump its thread's version, or refuse an unknown id."""
        thread_id = conn.execute(
            comment.update()
            .where(comment.c.id == comment_id, *conditions)
            .values(**values)
            .returning(comment.c.thread_id)
        ).scalar_one_or_none()
        if thread_id is None:
            raise StoreError("id", f"comment {comment_id} does not exist")
        self._bump(conn, thread_id)

    def set_status(self, comment_ids: Iterable[int], status: Status) -> list[int]:
        """Moderation: returns the ids that existed and were changed."""
        ids = list(comment_ids)
        if not ids:
            return []
        with write_transaction(self.engine) as conn:
            rows = conn.execute(
                comment.update()
                .where(comment.c.id.in_(ids))
                .values(status=status)
                .returning(comment.c.id, comment.c.thread_id)
            ).all()
            for thread_id in {row.thread_id for row in rows}:
                self._bump(conn, thread_id)
            return [row.id for row in rows]

    def vote(self, comment_id: int, voter: str, value: int) -> int:
        """One vote per reader and comment; voting again replaces the earlier vote."""
        with write_transaction(self.engine) as conn:
            target = conn.execute(
                sa.select(comment.c.thread_id).where(
                    comment.c.id == comment_id, comment.c.status == "approved"
                )
            ).first()
            if target is None:
                raise StoreError("id", f"comment {comment_id} does not exist")
            previous = conn.execute(
                sa.select(vote.c.value).where(
                    vote.c.comment_id == comment_id, vote.c.voter == voter
                )
            ).scalar_one_or_none()
            if previous is None:
                conn.execute(vote.insert().values(comment_id=comment_id, voter=voter, value=value))
            elif previous != value:
                conn.execute(
                    vote.update()
                    .where(vote.c.comment_id == comment_id, vote.c.voter == voter)
                    .values(value=value)
                )
            delta = value - (previous or 0)
            votes = conn.execute(
                comment.update()
                .where(comment.c.id == comment_id)
                .values(votes=comment.c.votes + delta)
                .returning(comment.c.votes)
            ).scalar_one()
            if delta:
                self._bump(conn, target.thread_id)
            return int(votes)

    # -- reading -----------------------------------------------------------------------

    @staticmethod
    def _get(conn: sa.Connection, comment_id: int) -> dict[str, Any]:
        row = conn.execute(_GET_COMMENT, {"cid": comment_id}).one()
        return dict(row._mapping)

    def get(self, comment_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            try:
                return self._get(conn, comment_id)
            except sa.exc.NoResultFound:
                return None

    def thread_page(
        self, thread_row: dict[str, Any], sort: Sort, limit: int, cursor: tuple[Any, int] | None
    ) -> ThreadPage:
        """One page of top-level comments, each with its whole visible reply tree."""
        visible = ("approved", "deleted")
        key = comment.c.votes if sort == "top" else comment.c.created
        descending = sort in ("newest", "top")
        query = (
            sa.select(*PUBLIC_COLUMNS)
            .where(
                comment.c.thread_id == thread_row["id"],
                comment.c.status.in_(visible),
                # Top level as depth 0, not "parent_id IS NULL": with statistics, SQLite
                # picks ix_comment_parent for IS NULL and walks every top-level comment of
                # every thread (7.7 ms at 40,000 comments, growing with the table).
                comment.c.depth == 0,
            )
            .limit(limit + 1)
        )
        if cursor is not None:
            after = sa.tuple_(key, comment.c.id)
            query = query.where(after < cursor if descending else after > cursor)
        order = (key.desc(), comment.c.id.desc()) if descending else (key, comment.c.id)
        with self.engine.connect() as conn:
            roots = [dict(r._mapping) for r in conn.execute(query.order_by(*order))]
            has_more = len(roots) > limit
            roots = roots[:limit]
            replies: list[dict[str, Any]] = []
            if roots:
                replies = [
                    dict(r._mapping)
                    for r in conn.execute(
                        sa.select(*PUBLIC_COLUMNS)
                        .where(
                            comment.c.root_id.in_([r["id"] for r in roots]),
                            comment.c.parent_id.is_not(None),
                            comment.c.status.in_(visible),
                        )
                        .order_by(comment.c.created, comment.c.id)
                    )
                ]
        next_cursor = None
        if has_more:
            last = roots[-1]
            last_key = last["votes"] if sort == "top" else last["created"].isoformat()
            next_cursor = _encode_cursor([last_key, last["id"]])
        return ThreadPage(thread_row, _nest(roots, replies), next_cursor)

    def counts(self, site_id: int, uris: Sequence[str]) -> dict[str, int]:
        """Approved comments per page, for any number of pages, in one query."""
        result = dict.fromkeys(uris, 0)
        if not uris:
            return result
        wanted = list(set(uris))
        # The busiest query of a site (every listing page asks for its counts), so it goes
        # through driver_read (100 -> 25 us; counts for 10 pages 290 -> 186 us per request).
        mark = driver_mark(self.engine)
        sql = _COUNTS_SQL.format(site=mark, uris=", ".join([mark] * len(wanted)))
        result.update(dict(driver_read(self.engine, sql, [site_id, *wanted])))
        return result

    def latest(
        self, site_id: int, limit: int, thread_id: int | None = None
    ) -> list[dict[str, Any]]:
        query = (
            sa.select(*PUBLIC_COLUMNS, thread.c.uri, thread.c.title)
            .join(thread, thread.c.id == comment.c.thread_id)
            .where(comment.c.status == "approved")
            .order_by(comment.c.created.desc(), comment.c.id.desc())
            .limit(limit)
        )
        if thread_id is not None:
            query = query.where(comment.c.thread_id == thread_id)
        else:
            query = query.where(thread.c.site_id == site_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def recent_comments_from_ip(self, ip: str, since: datetime) -> tuple[int, datetime | None]:
        """How many comments this IP wrote since ``since``, and when the oldest of them was."""
        oldest_created = sa.func.min(comment.c.created, type_=UtcDateTime())
        query = sa.select(sa.func.count(), oldest_created).where(
            comment.c.ip == ip, comment.c.created >= since
        )
        with self.engine.connect() as conn:
            count, oldest = conn.execute(query).one()
        return int(count), oldest

    def email_has_approved_comment(self, site_id: int, email: str) -> bool:
        query = (
            sa.select(comment.c.id)
            .join(thread, thread.c.id == comment.c.thread_id)
            .where(
                comment.c.email == email,
                comment.c.status == "approved",
                thread.c.site_id == site_id,
            )
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None


def _nest(roots: list[dict[str, Any]], replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hang replies under their parents; drop deleted comments nobody replied to.

    Iterative on purpose: threads may nest to any depth, recursion would not.
    """
    for item in [*roots, *replies]:
        item["replies"] = []
    by_id = {c["id"]: c for c in [*roots, *replies]}
    kept: set[int] = set()
    # Replies come in created order, so walking backwards meets children before parents.
    for item in [*reversed(replies), *roots]:
        if item["status"] == "approved" or item["replies"]:
            kept.add(item["id"])
            parent = by_id.get(item["parent_id"]) if item["parent_id"] else None
            if parent is not None:
                parent["replies"].append(item)
    for item in [*roots, *replies]:
        item["replies"].reverse()
    return [root for root in roots if root["id"] in kept]
