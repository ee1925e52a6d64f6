"""Admin accounts, their sessions (only token hashes are stored) and login attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from palabre.store.engine import write_transaction
from palabre.store.schema import admin_session, login_attempt, user
from palabre.timeutil import utcnow


class UserExists(Exception):
    pass


class UserStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- accounts ------------------------------------------------------------------------

    def create(self, username: str, password_hash: str, role: str = "moderator") -> int:
        with write_transaction(self.engine) as conn:
            exists = conn.execute(sa.select(user.c.id).where(user.c.username == username)).first()
            if exists is not None:
                raise UserExists(username)
            return int(
                conn.execute(
                    user.insert()
                    .values(username=username, password_hash=password_hash, role=role,
                            created=utcnow())
                    .returning(user.c.id)
                ).scalar_one()
            )  # fmt: skip

    def set_password(self, username: str, password_hash: str) -> bool:
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                user.update().where(user.c.username == username).values(password_hash=password_hash)
            )
            if done.rowcount:
                # A new password ends every session opened with the old one.
                user_id = sa.select(user.c.id).where(user.c.username == username).scalar_subquery()
                conn.execute(admin_session.delete().where(admin_session.c.user_id == user_id))
            return bool(done.rowcount)

    def by_username(self, username: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(user).where(user.c.username == username)).first()
            return dict(row._mapping) if row else None

    def list(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            query = sa.select(user.c.id, user.c.username, user.c.role, user.c.created)
            return [dict(r._mapping) for r in conn.execute(query.order_by(user.c.username))]

    # -- sessions ------------------------------------------------------------------------

    def create_session(self, token_hash: str, user_id: int, expires: datetime) -> None:
        now = utcnow()
        with write_transaction(self.engine) as conn:
            conn.execute(admin_session.delete().where(admin_session.c.expires < now))
            conn.execute(
                admin_session.insert().values(
                    token_hash=token_hash, user_id=user_id, created=now, expires=expires
                )
            )

    def session_user(self, token_hash: str) -> dict[str, Any] | None:
        query = (
            sa.select(user.c.id, user.c.username, user.c.role, admin_session.c.expires)
            .join(admin_session, admin_session.c.user_id == user.c.id)
            .where(admin_session.c.token_hash == token_hash, admin_session.c.expires > utcnow())
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
            return dict(row._mapping) if row else None

    def delete_session(self, token_hash: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(admin_session.delete().where(admin_session.c.token_hash == token_hash))

    # -- login attempts ------------------------------------------------------------------

    def record_attempt(self, ip: str, username: str, succeeded: bool) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                login_attempt.insert().values(
                    ip=ip, username=username[:255], succeeded=succeeded, created=utcnow()
                )
            )

    def failures_since(self, since: datetime, *, ip: str | None = None,
                       username: str | None = None) -> int:  # fmt: skip
        query = sa.select(sa.func.count()).where(
            login_attempt.c.succeeded.is_(False), login_attempt.c.created >= since
        )
        if ip is not None:
            query = query.where(login_attempt.c.ip == ip)
        if username is not None:
            query = query.where(login_attempt.c.username == username)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def purge_attempts(self, before: datetime) -> int:
        with write_transaction(self.engine) as conn:
            return conn.execute(
                login_attempt.delete().where(login_attempt.c.created < before)
            ).rowcount
