"""The SQL schema, shared by SQLite and PostgreSQL (SQLAlchemy Core).

Every read path has an index; the migration in ``migrations/versions`` creates exactly
these tables, and a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases (SQLite would hand back naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


site = sa.Table(
    "site",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("created", UtcDateTime(), nullable=False),
)

thread = sa.Table(
    "thread",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.ForeignKey("site.id"), nullable=False),
    sa.Column("uri", sa.String(1024), nullable=False),
    sa.Column("title", sa.String(512), nullable=False, server_default=""),
    sa.Column("created", UtcDateTime(), nullable=False),
    # Bumped by every write that changes what readers see, so caches can validate cheaply.
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("site_id", "uri"),
)

comment = sa.Table(
    "comment",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("thread_id", sa.ForeignKey("thread.id"), nullable=False),
    sa.Column("parent_id", sa.ForeignKey("comment.id"), nullable=True),
    # A reply's top-level ancestor: one indexed lookup fetches a whole subtree at any
    # depth. NULL on a top-level comment, which is its own root (databases from before
    # 2026-11-25 hold its own id there instead; both read the same).
    sa.Column("root_id", sa.Integer, nullable=True),
    sa.Column("depth", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("author", sa.String(255), nullable=False, server_default=""),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("avatar", sa.String(64), nullable=False, server_default=""),
    sa.Column("website", sa.String(1024), nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("user_agent", sa.String(512), nullable=True),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Column("edited", UtcDateTime(), nullable=True),
    sa.Column("votes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("spam_score", sa.Float, nullable=True),
    sa.Column("spam_class", sa.String(16), nullable=True),
    sa.Column("spam_reasons", sa.JSON, nullable=True),
    # The record the filter saw, so a moderator's decision can train it later.
    sa.Column("spam_record", sa.JSON, nullable=True),
    sa.Index("ix_comment_thread_status_created", "thread_id", "status", "created", "id"),
    sa.Index("ix_comment_thread_status_votes", "thread_id", "status", "votes", "id"),
    sa.Index("ix_comment_root", "root_id"),
    sa.Index("ix_comment_parent", "parent_id"),
    sa.Index("ix_comment_status_created", "status", "created"),
    sa.Index("ix_comment_ip_created", "ip", "created"),
    sa.Index("ix_comment_email", "email"),
    sa.Index("ix_comment_created", "created"),
)

vote = sa.Table(
    "vote",
    metadata,
    sa.Column("comment_id", sa.ForeignKey("comment.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("voter", sa.String(64), primary_key=True),
    sa.Column("value", sa.SmallInteger, nullable=False),
)

# Append-only log of labelled records. Every process replays it into its in-memory filter
# state, so a decision taken on one instance changes verdicts on all of them.
spam_event = sa.Table(
    "spam_event",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.ForeignKey("site.id"), nullable=False),
    sa.Column("is_spam", sa.Boolean, nullable=False),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False, server_default=""),
    sa.Column("comment_id", sa.Integer, nullable=True),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Index("ix_spam_event_site_id", "site_id", "id"),
)

# Serialised filter state after replaying the log up to ``event_id``: a new process starts
# from the newest snapshot instead of replaying every decision since the beginning.
spam_snapshot = sa.Table(
    "spam_snapshot",
    metadata,
    sa.Column("state_key", sa.Integer, primary_key=True),
    # Learned deltas only make sense on top of the model they were learned with.
    sa.Column("model_id", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
)

user = sa.Table(
    "user",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(255), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(32), nullable=False, server_default="moderator"),
    sa.Column("created", UtcDateTime(), nullable=False),
)

api_key = sa.Table(
    "api_key",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("key_hint", sa.String(16), nullable=False),
    sa.Column("site_id", sa.ForeignKey("site.id"), nullable=False),
    sa.Column("blog", sa.String(1024), nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Column("revoked", UtcDateTime(), nullable=True),
)

akismet_check = sa.Table(
    "akismet_check",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("guid", sa.String(64), nullable=False, unique=True),
    sa.Column("api_key_id", sa.ForeignKey("api_key.id"), nullable=False),
    sa.Column("blog", sa.String(1024), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("is_spam", sa.Boolean, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("klass", sa.String(16), nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("is_test", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("feedback", sa.String(8), nullable=True),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Index("ix_akismet_check_key_created", "api_key_id", "created"),
    sa.Index("ix_akismet_check_fingerprint", "api_key_id", "fingerprint"),
)

api_usage = sa.Table(
    "api_usage",
    metadata,
    sa.Column("api_key_id", sa.ForeignKey("api_key.id"), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("blog", sa.String(1024), primary_key=True),
    sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("spam", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ham", sa.Integer, nullable=False, server_default="0"),
    sa.Column("missed_spam", sa.Integer, nullable=False, server_default="0"),
    sa.Column("false_positives", sa.Integer, nullable=False, server_default="0"),
)

admin_session = sa.Table(
    "admin_session",
    metadata,
    # Only a hash of the cookie's token is stored: a database leak gives no live session.
    sa.Column("token_hash", sa.String(128), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Column("expires", UtcDateTime(), nullable=False),
)

login_attempt = sa.Table(
    "login_attempt",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("username", sa.String(255), nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Index("ix_login_attempt_ip_created", "ip", "created"),
)
