"""The moderator's queries (queue, search, threads, per-day counts) and the privacy ones
(export, erasure, retention). Plain rows out; the HTTP layer decides what to show."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from palabre.store.comments import SCRUBBED, STATUSES
from palabre.store.engine import write_transaction
from palabre.store.schema import akismet_check, comment, spam_event, thread
from palabre.timeutil import utcnow

SearchField = Literal["all", "text", "author", "email", "ip", "thread"]
SEARCH_FIELDS: tuple[SearchField, ...] = ("all", "text", "author", "email", "ip", "thread")
BATCH = 500

QUEUE_COLUMNS = (
    comment.c.id,
    comment.c.thread_id,
    comment.c.parent_id,
    comment.c.status,
    comment.c.author,
    comment.c.email,
    comment.c.website,
    comment.c.ip,
    comment.c.user_agent,
    comment.c.text,
    comment.c.html,
    comment.c.created,
    comment.c.edited,
    comment.c.votes,
    comment.c.spam_score,
    comment.c.spam_class,
    comment.c.spam_reasons,
    thread.c.uri,
    thread.c.title,
    thread.c.site_id,
)


@dataclass(frozen=True, slots=True)
class Search:
    query: str = ""
    field: SearchField = "all"


def truncate_ip(raw: str) -> str:
    """Keep the network, drop the host: /24 for IPv4, /48 for IPv6."""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def _contains(column: sa.ColumnElement[Any], text: str) -> sa.ColumnElement[bool]:
    return sa.func.lower(column).contains(text.lower(), autoescape=True)


def _search_clause(search: Search) -> sa.ColumnElement[bool] | None:
    q = search.query.strip()
    if not q:
        return None
    clauses = {
        "text": _contains(comment.c.text, q),
        "author": _contains(comment.c.author, q),
        "email": _contains(comment.c.email, q),
        "ip": comment.c.ip.startswith(q, autoescape=True),
        "thread": sa.or_(_contains(thread.c.uri, q), _contains(thread.c.title, q)),
    }
    if search.field == "all":
        return sa.or_(*clauses.values())
    return clauses[search.field]


class ModerationStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- the queue -----------------------------------------------------------------------

    def queue(
        self,
        *,
        status: str | None = None,
        search: Search | None = None,
        thread_id: int | None = None,
        site_ids: list[int] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Comments newest first, filtered; also the total matching count for paging."""
        conditions: list[sa.ColumnElement[bool]] = []
        if status:
            conditions.append(comment.c.status == status)
        if thread_id is not None:
            conditions.append(comment.c.thread_id == thread_id)
        if site_ids is not None:
            conditions.append(thread.c.site_id.in_(site_ids))
        clause = _search_clause(search) if search else None
        if clause is not None:
            conditions.append(clause)
        joined = comment.join(thread, thread.c.id == comment.c.thread_id)
        order = (
            (comment.c.created, comment.c.id)
            if thread_id is not None
            else (comment.c.created.desc(), comment.c.id.desc())
        )
        rows_query = (
            sa.select(*QUEUE_COLUMNS).select_from(joined).where(*conditions)
            .order_by(*order).limit(limit).offset(offset)
        )  # fmt: skip
        count_query = sa.select(sa.func.count()).select_from(joined).where(*conditions)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(rows_query)]
            total = int(conn.execute(count_query).scalar_one())
        return rows, total

    def status_counts(self, site_ids: list[int] | None = None) -> dict[str, int]:
        query = sa.select(comment.c.status, sa.func.count()).group_by(comment.c.status)
        if site_ids is not None:
            query = query.join(thread, thread.c.id == comment.c.thread_id).where(
                thread.c.site_id.in_(site_ids)
            )
        result = dict.fromkeys(STATUSES, 0)
        with self.engine.connect() as conn:
            result.update({status: int(n) for status, n in conn.execute(query)})
        return result

    def threads(self, search: str = "", limit: int = 50) -> list[dict[str, Any]]:
        """Threads with their comment counts per status, most recently active first."""
        counts = {
            status: sa.func.sum(sa.case((comment.c.status == status, 1), else_=0)).label(status)
            for status in STATUSES
        }
        last = sa.func.max(comment.c.created).label("last_comment")
        query = (
            sa.select(thread.c.id, thread.c.uri, thread.c.title, thread.c.site_id, last,
                      *counts.values())
            .select_from(thread.join(comment, comment.c.thread_id == thread.c.id))
            .group_by(thread.c.id, thread.c.uri, thread.c.title, thread.c.site_id)
            .order_by(last.desc())
            .limit(limit)
        )  # fmt: skip
        if search.strip():
            query = query.where(
                sa.or_(_contains(thread.c.uri, search.strip()), _contains(thread.c.title, search))
            )
        with self.engine.connect() as conn:
            # str(): labels may come back as str subclasses, which JSON encoders refuse.
            rows = [{str(k): v for k, v in r._mapping.items()} for r in conn.execute(query)]
        for row in rows:
            for status in STATUSES:
                row[status] = int(row[status] or 0)
            last_comment = row["last_comment"]
            if isinstance(last_comment, str):  # SQLite's max() loses the column type
                row["last_comment"] = datetime.fromisoformat(last_comment)
        return rows

    def thread(self, thread_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(thread).where(thread.c.id == thread_id)).first()
            return dict(row._mapping) if row else None

    def for_decision(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """What a moderator's decision needs: the site, the status, the record the filter saw."""
        wanted = list(ids)
        if not wanted:
            return []
        query = (
            sa.select(comment.c.id, comment.c.status, comment.c.spam_record, thread.c.site_id)
            .join(thread, thread.c.id == comment.c.thread_id)
            .where(comment.c.id.in_(wanted))
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def per_day(self, days: int, site_ids: list[int] | None = None) -> list[dict[str, Any]]:
        """Comments received and spam caught per UTC day, oldest first, days without any
        included (so a chart has no holes)."""
        today = utcnow().date()
        first = today - timedelta(days=days - 1)
        start = datetime.combine(first, datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
        if self.engine.dialect.name == "postgresql":
            day = sa.cast(sa.func.timezone("UTC", comment.c.created), sa.Date)
        else:
            day = sa.func.date(comment.c.created)
        spam = sa.func.sum(sa.case((comment.c.status == "spam", 1), else_=0))
        query = (
            sa.select(day.label("day"), sa.func.count().label("comments"), spam.label("spam"))
            .where(comment.c.created >= start)
            .group_by(day)
        )
        if site_ids is not None:
            query = query.join(thread, thread.c.id == comment.c.thread_id).where(
                thread.c.site_id.in_(site_ids)
            )
        found: dict[date, tuple[int, int]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                key = row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day))
                found[key] = (int(row.comments), int(row.spam or 0))
        result = []
        for offset in range(days):
            current = first + timedelta(days=offset)
            comments, spam_count = found.get(current, (0, 0))
            result.append({"day": current.isoformat(), "comments": comments, "spam": spam_count})
        return result

    # -- privacy -------------------------------------------------------------------------

    def export_email(self, email: str) -> list[dict[str, Any]]:
        """Everything stored about the comments written with this e-mail address."""
        query = (
            sa.select(
                comment.c.id, comment.c.status, comment.c.author, comment.c.email,
                comment.c.website, comment.c.text, comment.c.ip, comment.c.user_agent,
                comment.c.created, comment.c.edited, comment.c.votes, comment.c.parent_id,
                comment.c.spam_score, comment.c.spam_class, thread.c.uri, thread.c.title,
                thread.c.site_id,
            )
            .join(thread, thread.c.id == comment.c.thread_id)
            .where(sa.func.lower(comment.c.email) == email.strip().lower())
            .order_by(comment.c.created, comment.c.id)
        )  # fmt: skip
        with self.engine.connect() as conn:
            return [{str(k): v for k, v in r._mapping.items()} for r in conn.execute(query)]

    def erase_email(self, email: str) -> list[int]:
        """Erase a commenter: their comments keep a placeholder where replies hang below
        them, lose every word and identifier, and leave the filter's training log."""
        wanted = email.strip().lower()
        with write_transaction(self.engine) as conn:
            rows = conn.execute(
                sa.select(comment.c.id, comment.c.thread_id).where(
                    sa.func.lower(comment.c.email) == wanted
                )
            ).all()
            ids = [row.id for row in rows]
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                conn.execute(
                    comment.update()
                    .where(comment.c.id.in_(chunk))
                    .values(status="deleted", spam_reasons=None, **SCRUBBED)
                )
                conn.execute(spam_event.delete().where(spam_event.c.comment_id.in_(chunk)))
            for thread_id in {row.thread_id for row in rows}:
                conn.execute(
                    thread.update()
                    .where(thread.c.id == thread_id)
                    .values(version=thread.c.version + 1)
                )
        return ids

    def truncate_ips(self, before: datetime) -> int:
        """Shorten the IPs of comments older than ``before``, in the comment row and in the
        record kept for the filter; the training log's copies too."""
        changed = 0
        with write_transaction(self.engine) as conn:
            rows = conn.execute(
                sa.select(comment.c.id, comment.c.ip, comment.c.spam_record).where(
                    comment.c.created < before, comment.c.ip.is_not(None)
                )
            ).all()
            for row in rows:
                short = truncate_ip(row.ip) or None
                record = row.spam_record
                record_changed = isinstance(record, dict) and record.get("ip") not in (None, short)
                if short == row.ip and not record_changed:
                    continue
                values: dict[str, Any] = {"ip": short}
                if record_changed:
                    values["spam_record"] = {**record, "ip": short}
                conn.execute(comment.update().where(comment.c.id == row.id).values(**values))
                changed += 1
            events = conn.execute(
                sa.select(spam_event.c.id, spam_event.c.record).where(spam_event.c.created < before)
            ).all()
            for event in events:
                record = event.record
                if not isinstance(record, dict) or not record.get("ip"):
                    continue
                short = truncate_ip(str(record["ip"])) or None
                if short != record["ip"]:
                    conn.execute(
                        spam_event.update()
                        .where(spam_event.c.id == event.id)
                        .values(record={**record, "ip": short})
                    )
        return changed

    def purge_spam(self, before: datetime) -> int:
        """Delete spam older than ``before``; one that got replies before it was marked
        keeps its place as a scrubbed, deleted comment."""
        with write_transaction(self.engine) as conn:
            rows = conn.execute(
                sa.select(comment.c.id, comment.c.thread_id).where(
                    comment.c.status == "spam", comment.c.created < before
                )
            ).all()
            if not rows:
                return 0
            ids = [row.id for row in rows]
            parents: set[int] = set()
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                parents |= set(
                    conn.execute(
                        sa.select(comment.c.parent_id).where(comment.c.parent_id.in_(chunk))
                    ).scalars()
                )
            doomed = [i for i in ids if i not in parents]
            kept = [i for i in ids if i in parents]
            for start in range(0, len(doomed), BATCH):
                chunk = doomed[start : start + BATCH]
                conn.execute(comment.delete().where(comment.c.id.in_(chunk)))
            if kept:
                conn.execute(
                    comment.update()
                    .where(comment.c.id.in_(kept))
                    .values(status="deleted", spam_reasons=None, **SCRUBBED)
                )
            for thread_id in {row.thread_id for row in rows}:
                conn.execute(
                    thread.update()
                    .where(thread.c.id == thread_id)
                    .values(version=thread.c.version + 1)
                )
        return len(ids)

    def purge_check_log(self, before: datetime) -> int:
        """Akismet-protocol checks older than ``before`` (their records hold personal data)."""
        with write_transaction(self.engine) as conn:
            return conn.execute(
                akismet_check.delete().where(akismet_check.c.created < before)
            ).rowcount
