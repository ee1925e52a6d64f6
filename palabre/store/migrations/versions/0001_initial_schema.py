"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 20:20:52.945351
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempt_ip_created", ["ip", "created"], unique=False)

    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("name", name=op.f("uq_site_name")),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), server_default="moderator", nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("username", name=op.f("uq_user_username")),
    )
    op.create_table(
        "admin_session",
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_admin_session_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_admin_session")),
    )
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("key_hint", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("blog", sa.String(length=1024), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_api_key_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
    )
    op.create_table(
        "spam_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("is_spam", sa.Boolean(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=255), server_default="", nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_spam_event_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spam_event")),
    )
    with op.batch_alter_table("spam_event", schema=None) as batch_op:
        batch_op.create_index("ix_spam_event_site_id", ["site_id", "id"], unique=False)

    op.create_table(
        "thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=1024), nullable=False),
        sa.Column("title", sa.String(length=512), server_default="", nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_thread_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread")),
        sa.UniqueConstraint("site_id", "uri", name=op.f("uq_thread_site_id_uri")),
    )
    op.create_table(
        "akismet_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guid", sa.String(length=64), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("blog", sa.String(length=1024), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("is_spam", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("klass", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("is_test", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("feedback", sa.String(length=8), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_akismet_check_api_key_id_api_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_akismet_check")),
        sa.UniqueConstraint("guid", name=op.f("uq_akismet_check_guid")),
    )
    with op.batch_alter_table("akismet_check", schema=None) as batch_op:
        batch_op.create_index(
            "ix_akismet_check_fingerprint", ["api_key_id", "fingerprint"], unique=False
        )
        batch_op.create_index(
            "ix_akismet_check_key_created", ["api_key_id", "created"], unique=False
        )

    op.create_table(
        "api_usage",
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("blog", sa.String(length=1024), nullable=False),
        sa.Column("calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("spam", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ham", sa.Integer(), server_default="0", nullable=False),
        sa.Column("missed_spam", sa.Integer(), server_default="0", nullable=False),
        sa.Column("false_positives", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_api_usage_api_key_id_api_key")
        ),
        sa.PrimaryKeyConstraint("api_key_id", "month", "blog", name=op.f("pk_api_usage")),
    )
    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("root_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=255), server_default="", nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("avatar", sa.String(length=64), server_default="", nullable=False),
        sa.Column("website", sa.String(length=1024), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited", sa.DateTime(timezone=True), nullable=True),
        sa.Column("votes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("spam_score", sa.Float(), nullable=True),
        sa.Column("spam_class", sa.String(length=16), nullable=True),
        sa.Column("spam_reasons", sa.JSON(), nullable=True),
        sa.Column("spam_record", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["comment.id"], name=op.f("fk_comment_parent_id_comment")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["thread.id"], name=op.f("fk_comment_thread_id_thread")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
    )
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index("ix_comment_created", ["created"], unique=False)
        batch_op.create_index("ix_comment_email", ["email"], unique=False)
        batch_op.create_index("ix_comment_ip_created", ["ip", "created"], unique=False)
        batch_op.create_index("ix_comment_parent", ["parent_id"], unique=False)
        batch_op.create_index("ix_comment_root", ["root_id"], unique=False)
        batch_op.create_index("ix_comment_status_created", ["status", "created"], unique=False)
        batch_op.create_index(
            "ix_comment_thread_status_created",
            ["thread_id", "status", "created", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_comment_thread_status_votes", ["thread_id", "status", "votes", "id"], unique=False
        )

    op.create_table(
        "vote",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=64), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comment.id"],
            name=op.f("fk_vote_comment_id_comment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", "voter", name=op.f("pk_vote")),
    )


def downgrade() -> None:

    op.drop_table("vote")
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_thread_status_votes")
        batch_op.drop_index("ix_comment_thread_status_created")
        batch_op.drop_index("ix_comment_status_created")
        batch_op.drop_index("ix_comment_root")
        batch_op.drop_index("ix_comment_parent")
        batch_op.drop_index("ix_comment_ip_created")
        batch_op.drop_index("ix_comment_email")
        batch_op.drop_index("ix_comment_created")

    op.drop_table("comment")
    op.drop_table("api_usage")
    with op.batch_alter_table("akismet_check", schema=None) as batch_op:
        batch_op.drop_index("ix_akismet_check_key_created")
        batch_op.drop_index("ix_akismet_check_fingerprint")

    op.drop_table("akismet_check")
    op.drop_table("thread")
    with op.batch_alter_table("spam_event", schema=None) as batch_op:
        batch_op.drop_index("ix_spam_event_site_id")

    op.drop_table("spam_event")
    op.drop_table("api_key")
    op.drop_table("admin_session")
    op.drop_table("user")
    op.drop_table("site")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_ip_created")

    op.drop_table("login_attempt")
