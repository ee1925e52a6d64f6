"""Persistence behind one interface: ``Store`` groups the repositories over one engine.

The HTTP layer never builds SQL; it calls these methods. SQLite (WAL) and PostgreSQL behave
the same, which the test suite checks by running every store test on both.
"""

from __future__ import annotations

import sqlalchemy as sa

from palabre.store.akismet import AkismetStore
from palabre.store.comments import CommentStore, NewComment, StoreError, ThreadPage
from palabre.store.engine import WriterBusy, create_engine, dispose, migrate, normalise_url
from palabre.store.moderation import ModerationStore
from palabre.store.spam_events import SpamEvent, SpamEventStore
from palabre.store.users import UserStore

__all__ = [
    "CommentStore",
    "NewComment",
    "SpamEvent",
    "SpamEventStore",
    "Store",
    "StoreError",
    "ThreadPage",
    "WriterBusy",
]


class Store:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine: sa.Engine = create_engine(self.url)
        self.comments = CommentStore(self.engine)
        self.spam_events = SpamEventStore(self.engine)
        self.users = UserStore(self.engine)
        self.moderation = ModerationStore(self.engine)
        self.akismet = AkismetStore(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        migrate(self.engine)

    def close(self) -> None:
        dispose(self.engine)
