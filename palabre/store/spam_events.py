"""The append-only log of labelled records that trains each site's filter state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from palabre.store.engine import driver_mark, driver_read, insert_ignore, write_transaction
from palabre.store.schema import spam_event, spam_snapshot
from palabre.timeutil import utcnow

_LATEST_SQL = "SELECT max(id) FROM spam_event"


@dataclass(frozen=True, slots=True)
class SpamEvent:
    id: int
    site_id: int
    is_spam: bool
    record: dict[str, Any]


class SpamEventStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def append(
        self,
        site_id: int,
        record: dict[str, Any],
        is_spam: bool,
        *,
        source: str,
        actor: str = "",
        comment_id: int | None = None,
        conn: sa.Connection | None = None,
    ) -> int:
        """Log one decision; pass ``conn`` to make it part of a larger write."""
        values = {
            "site_id": site_id,
            "record": record,
            "is_spam": is_spam,
            "source": source,
            "actor": actor,
            "comment_id": comment_id,
            "created": utcnow(),
        }
        statement = spam_event.insert().values(**values).returning(spam_event.c.id)
        if conn is not None:
            return int(conn.execute(statement).scalar_one())
        with write_transaction(self.engine) as own:
            return int(own.execute(statement).scalar_one())

    def latest_id(self, site_ids: list[int] | None) -> int:
        """Newest event id for these sites (all sites when None); 0 when there is none."""
        # Runs before every verdict, so it skips SQLAlchemy's Connection (see driver_read).
        if site_ids is not None and not site_ids:
            return 0
        sql, params = _LATEST_SQL, list(site_ids or ())
        if site_ids is not None:
            sql += " WHERE site_id IN (" + ", ".join([driver_mark(self.engine)] * len(params)) + ")"
        rows = driver_read(self.engine, sql, params)
        return int(rows[0][0] or 0) if rows else 0

    def since(self, site_ids: list[int] | None, after_id: int) -> list[SpamEvent]:
        query = (
            sa.select(
                spam_event.c.id, spam_event.c.site_id, spam_event.c.is_spam, spam_event.c.record
            )
            .where(spam_event.c.id > after_id)
            .order_by(spam_event.c.id)
        )
        if site_ids is not None:
            query = query.where(spam_event.c.site_id.in_(site_ids))
        with self.engine.connect() as conn:
            return [SpamEvent(r.id, r.site_id, r.is_spam, r.record) for r in conn.execute(query)]

    def snapshot(self, state_key: int, model_id: str) -> tuple[int, bytes] | None:
        """The newest saved state for this key: (last event id in it, serialised state)."""
        query = sa.select(spam_snapshot.c.event_id, spam_snapshot.c.data).where(
            spam_snapshot.c.state_key == state_key, spam_snapshot.c.model_id == model_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return (int(row.event_id), bytes(row.data)) if row else None

    def save_snapshot(self, state_key: int, model_id: str, event_id: int, data: bytes) -> None:
        """Keep only the newest snapshot; an older one never overwrites a newer one."""
        values = {"event_id": event_id, "data": data, "created": utcnow()}
        with write_transaction(self.engine) as conn:
            key = {"state_key": state_key, "model_id": model_id}
            insert_ignore(conn, spam_snapshot, key | values)
            conn.execute(
                spam_snapshot.update()
                .where(
                    spam_snapshot.c.state_key == state_key,
                    spam_snapshot.c.model_id == model_id,
                    spam_snapshot.c.event_id < event_id,
                )
                .values(**values)
            )
