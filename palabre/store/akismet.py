"""Akismet API keys, the log of every comment-check, and usage counters per key and month.

Keys are random 12-character ``[a-z0-9]`` strings; only their SHA-256 is stored (they have
~62 bits of entropy, so a fast hash allows an indexed lookup without exposing them), plus a
4-character hint so an operator can tell keys apart. Counters are bumped with atomic
``UPDATE ... SET n = n + 1`` upserts, so concurrent processes never lose a count.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import sqlalchemy as sa

from palabre.store.engine import write_transaction
from palabre.store.schema import akismet_check, api_key, api_usage, site
from palabre.timeutil import utcnow

_SQLITE_INSERT_CHECKS = (
    "INSERT INTO akismet_check (guid, api_key_id, blog, fingerprint, is_spam, score, klass, "
    "reasons, record, is_test, created) VALUES "
)
_SQLITE_CHECK_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_CHUNK = 500  # rows per statement: 5,500 variables, far below SQLite's cap
SITE_PREFIX = "akismet:"  # site rows that hold one key's learned filter state
Order = Literal["total", "spam", "ham", "missed_spam", "false_positives"]
ORDER_COLUMNS = {
    "total": api_usage.c.calls,
    "spam": api_usage.c.spam,
    "ham": api_usage.c.ham,
    "missed_spam": api_usage.c.missed_spam,
    "false_positives": api_usage.c.false_positives,
}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    site_id: int
    hint: str
    blog: str
    created: datetime
    revoked: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked is None


@dataclass(frozen=True, slots=True)
class CheckLog:
    """One comment-check as the client saw it, ready to be written."""

    guid: str
    api_key_id: int
    blog: str
    fingerprint: str
    is_spam: bool
    score: float
    klass: str
    reasons: list[dict[str, Any]]
    record: dict[str, Any]
    is_test: bool


@dataclass(frozen=True, slots=True)
class LoggedCheck:
    id: int
    guid: str
    is_spam: bool
    klass: str
    score: float
    record: dict[str, Any]
    feedback: str | None


@dataclass(frozen=True, slots=True)
class SiteUsage:
    blog: str
    calls: int
    spam: int
    ham: int
    missed_spam: int
    false_positives: int


_KEY_COLUMNS = (
    api_key.c.id,
    api_key.c.site_id,
    api_key.c.key_hint,
    api_key.c.blog,
    api_key.c.created,
    api_key.c.revoked,
)


_FIND_KEY = sa.select(*_KEY_COLUMNS).where(api_key.c.key_hash == sa.bindparam("digest"))


def _key(row: Any) -> ApiKey:
    return ApiKey(row.id, row.site_id, row.key_hint, row.blog, row.created, row.revoked)


def _upsert_usage(
    conn: sa.Connection, key_id: int, month: str, blog: str, **increments: int
) -> None:
    """Add to this key/month/blog's counters atomically, creating the row on first use."""
    blog = blog[:1024]
    where = (
        (api_usage.c.api_key_id == key_id)
        & (api_usage.c.month == month)
        & (api_usage.c.blog == blog)
    )
    bump = {name: getattr(api_usage.c, name) + n for name, n in increments.items()}
    if conn.execute(api_usage.update().where(where).values(**bump)).rowcount:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(api_usage).values(api_key_id=key_id, month=month, blog=blog, **increments)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[api_usage.c.api_key_id, api_usage.c.month, api_usage.c.blog],
            set_=bump,
        )
    )


class AkismetStore:
    def __init__(self, engine: sa.Engine, key_cache_seconds: float = 1.0) -> None:
        self.engine = engine
        # comment-check looks its key up on every request: a short-lived cache saves a
        # query each time. Revoking through this store clears it at once; a revocation
        # made by another process (the CLI) takes effect within ``key_cache_seconds``.
        self.key_cache_seconds = key_cache_seconds
        self._keys: dict[str, tuple[float, ApiKey | None]] = {}

    # -- keys ------------------------------------------------------------------------

    def create_key(self, key: str, blog: str) -> ApiKey:
        """Store a new key (hashed) with its own site row for what it teaches the filter."""
        digest = hash_key(key)
        now = utcnow()
        with write_transaction(self.engine) as conn:
            site_id = conn.execute(
                site.insert()
                .values(name=f"{SITE_PREFIX}{digest[:16]}", created=now)
                .returning(site.c.id)
            ).scalar_one()
            row = conn.execute(
                api_key.insert()
                .values(key_hash=digest, key_hint=key[:4], site_id=site_id, blog=blog,
                        created=now)
                .returning(*_KEY_COLUMNS)
            ).one()  # fmt: skip
        return _key(row)

    def find_key(self, key: str, *, cached: bool = False) -> ApiKey | None:
        """The key's row, or None; ``cached`` allows an answer up to a second old."""
        digest = hash_key(key)
        now = time.monotonic()
        if cached:
            hit = self._keys.get(digest)
            if hit is not None and hit[0] > now:
                return hit[1]
        with self.engine.connect() as conn:
            row = conn.execute(_FIND_KEY, {"digest": digest}).first()
        found = _key(row) if row else None
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[digest] = (now + self.key_cache_seconds, found)
        return found

    def list_keys(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*_KEY_COLUMNS).order_by(api_key.c.id))
            return [_key(row) for row in rows]

    def revoke_key(self, key: str) -> ApiKey | None:
        """Revoke a key; None when no such key exists. Revoking twice keeps the first date."""
        with write_transaction(self.engine) as conn:
            digest = hash_key(key)
            conn.execute(
                api_key.update()
                .where(api_key.c.key_hash == digest, api_key.c.revoked.is_(None))
                .values(revoked=utcnow())
            )
            row = conn.execute(sa.select(*_KEY_COLUMNS).where(api_key.c.key_hash == digest))
            found = row.first()
        self._keys.pop(digest, None)
        return _key(found) if found else None

    # -- checks and counters ---------------------------------------------------------

    def record_checks(self, checks: list[CheckLog], month: str) -> None:
        """Log checks and count them (tests are logged, never counted), in one transaction."""
        if not checks:
            return
        now = utcnow()
        counts: dict[tuple[int, str], list[int]] = {}
        for check in checks:
            if not check.is_test:
                tally = counts.setdefault((check.api_key_id, check.blog[:1024]), [0, 0])
                tally[0 if check.is_spam else 1] += 1
        with write_transaction(self.engine) as conn:
            if conn.dialect.name == "sqlite":
                # The hot path (a batch every 50 ms): straight to the driver, JSON by orjson,
                # the timestamp as SQLAlchemy stores it on SQLite; 60% of the CPU of the
                # Core executemany below.
                # One multi-row statement per chunk, so the driver steps SQLite (and lets
                # go of the GIL) once per chunk rather than once per row.
                stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                for start in range(0, len(checks), INSERT_CHUNK):
                    chunk = checks[start : start + INSERT_CHUNK]
                    values: list[Any] = []
                    for c in chunk:
                        values += (c.guid, c.api_key_id, c.blog[:1024], c.fingerprint, c.is_spam,
                                   c.score, c.klass, orjson.dumps(c.reasons).decode(),
                                   orjson.dumps(c.record).decode(), c.is_test, stamp)  # fmt: skip
                    rows = ", ".join([_SQLITE_CHECK_ROW] * len(chunk))
                    conn.exec_driver_sql(_SQLITE_INSERT_CHECKS + rows, tuple(values))
            else:
                self._insert_checks(conn, checks, now)
            for (key_id, blog), (spam, ham) in sorted(counts.items()):
                _upsert_usage(conn, key_id, month, blog, calls=spam + ham, spam=spam, ham=ham)

    @staticmethod
    def _insert_checks(conn: sa.Connection, checks: list[CheckLog], now: datetime) -> None:
        conn.execute(
            akismet_check.insert(),
            [
                {
                    "guid": c.guid,
                    "api_key_id": c.api_key_id,
                    "blog": c.blog[:1024],
                    "fingerprint": c.fingerprint,
                    "is_spam": c.is_spam,
                    "score": c.score,
                    "klass": c.klass,
                    "reasons": c.reasons,
                    "record": c.record,
                    "is_test": c.is_test,
                    "created": now,
                }
                for c in checks
            ],
        )

    def find_check(
        self, key_id: int, *, guid: str | None = None, fingerprint: str | None = None
    ) -> LoggedCheck | None:
        """The check a submission refers to: by guid if given, else the newest by fingerprint."""
        columns = (
            akismet_check.c.id,
            akismet_check.c.guid,
            akismet_check.c.is_spam,
            akismet_check.c.klass,
            akismet_check.c.score,
            akismet_check.c.record,
            akismet_check.c.feedback,
        )
        query = sa.select(*columns).where(akismet_check.c.api_key_id == key_id)
        if guid:
            query = query.where(akismet_check.c.guid == guid)
        elif fingerprint:
            query = query.where(akismet_check.c.fingerprint == fingerprint)
        else:
            return None
        query = query.order_by(akismet_check.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return LoggedCheck(row.id, row.guid, row.is_spam, row.klass, row.score, row.record,
                           row.feedback)  # fmt: skip

    def record_feedback(
        self,
        key_id: int,
        month: str,
        blog: str,
        is_spam: bool,
        check: LoggedCheck | None,
        count: bool,
    ) -> None:
        """A submit-spam/ham: mark the check it refers to and count a miss when it was one."""
        with write_transaction(self.engine) as conn:
            if check is not None:
                conn.execute(
                    akismet_check.update()
                    .where(akismet_check.c.id == check.id)
                    .values(feedback="spam" if is_spam else "ham")
                )
            if not count:
                return
            # The same verdict corrected twice is one mistake, not two.
            already = check is not None and check.feedback == ("spam" if is_spam else "ham")
            if check is not None and check.is_spam != is_spam and not already:
                name = "missed_spam" if is_spam else "false_positives"
                _upsert_usage(conn, key_id, month, blog, **{name: 1})

    def month_calls(self, key_id: int, month: str) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(api_usage.c.calls), 0)).where(
            api_usage.c.api_key_id == key_id, api_usage.c.month == month
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def site_usage(
        self,
        key_id: int,
        month: str,
        *,
        url_filter: str = "",
        order: Order = "total",
        limit: int = 500,
        offset: int = 0,
    ) -> tuple[list[SiteUsage], int]:
        """One page of this key's per-blog counters for a month, and how many blogs in all."""
        where = [api_usage.c.api_key_id == key_id, api_usage.c.month == month]
        if url_filter:
            escaped = url_filter.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(api_usage.c.blog.like(f"%{escaped}%", escape="\\"))
        page = (
            sa.select(api_usage)
            .where(*where)
            .order_by(ORDER_COLUMNS[order].desc(), api_usage.c.blog)
            .limit(limit)
            .offset(offset)
        )
        total = sa.select(sa.func.count()).select_from(api_usage).where(*where)
        with self.engine.connect() as conn:
            rows = [
                SiteUsage(r.blog, r.calls, r.spam, r.ham, r.missed_spam, r.false_positives)
                for r in conn.execute(page)
            ]
            return rows, int(conn.execute(total).scalar_one())
