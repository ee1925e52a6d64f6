"""The privacy page follows the live settings; export, erasure and retention do what it says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from click.testing import CliRunner

from palabre.privacy.retention import erase_commenter, export_commenter, run_retention
from palabre.store.moderation import truncate_ip
from palabre.store.schema import comment, spam_event
from palabre.timeutil import utcnow
from tests.conftest import LiveServer, ServerFactory


def post(server: LiveServer, page: str, **fields: Any) -> dict[str, Any]:
    body = {"uri": page, "author": "Rita", "text": "Private thoughts."} | fields
    with server.client() as http:
        response = http.post("/api/comments", json=body, headers={"User-Agent": "TestAgent/1"})
    assert response.status_code in (201, 202), response.text
    return response.json()


def test_privacy_page_is_generated_from_the_live_settings(server_factory: ServerFactory):
    first = server_factory(spam={"enabled": False})
    page = httpx.get(first.url + "/privacy").text
    assert "How your comment data is processed" in page
    assert "kept in full for 30 days" in page
    assert "deleted 30 days after" in page
    assert "own spam filter" not in page  # the filter is off here, and the page says so
    assert "spam filter is turned off" in page

    second = server_factory(
        privacy={"ip_retention_days": 7, "spam_retention_days": 3, "contact": "dpo@news.example"},
        spam={"enabled": True},
    )
    page = httpx.get(second.url + "/privacy").text
    assert "kept in full for 7 days" in page
    assert "deleted 3 days after" in page
    assert "dpo@news.example" in page
    assert "own spam filter, <strong>on this server</strong>" in page
    assert "no third party" in page.lower()


def set_created(server: LiveServer, comment_id: int, days_ago: int) -> None:
    with server.runtime.store.engine.begin() as conn:
        conn.execute(
            comment.update()
            .where(comment.c.id == comment_id)
            .values(created=utcnow() - timedelta(days=days_ago))
        )


def test_retention_truncates_old_ips_and_deletes_old_spam(server_factory: ServerFactory):
    retention = {"ip_retention_days": 10, "spam_retention_days": 5}
    server = server_factory(spam={"enabled": False}, privacy=retention)
    store = server.runtime.store
    old = post(server, "/a", email="old@x.org")["id"]
    recent = post(server, "/a", email="new@x.org")["id"]
    old_spam = post(server, "/a", text="buy pills")["id"]
    new_spam = post(server, "/a", text="buy more pills")["id"]
    store.comments.set_status([old_spam, new_spam], "spam")
    store.spam_events.append(
        server.runtime.site_id("blog"), {"text": "x", "ip": "127.0.0.1"}, True,
        source="moderator", comment_id=old,
    )  # fmt: skip
    set_created(server, old, 11)
    set_created(server, old_spam, 6)
    with store.engine.begin() as conn:
        conn.execute(spam_event.update().values(created=utcnow() - timedelta(days=11)))

    report = run_retention(store, server.settings)
    assert report.ips_truncated >= 1 and report.spam_deleted == 1
    assert store.comments.get(old)["ip"] == "127.0.0.0"
    assert store.comments.get(old)["spam_record"]["ip"] == "127.0.0.0"
    assert store.comments.get(recent)["ip"] == "127.0.0.1"
    assert store.comments.get(old_spam) is None
    assert store.comments.get(new_spam)["status"] == "spam"
    with store.engine.connect() as conn:
        records = conn.execute(sa.select(spam_event.c.record)).scalars().all()
    assert all(r.get("ip") in (None, "127.0.0.0") for r in records)
    # Idempotent: nothing left to do.
    assert run_retention(store, server.settings).as_dict() == {
        "ips_truncated": 0, "spam_deleted": 0, "checks_deleted": 0,
        "login_attempts_deleted": 0,
    }  # fmt: skip


def test_ip_truncation():
    assert truncate_ip("203.0.113.77") == "203.0.113.0"
    assert truncate_ip("2001:db8:1234:5678::1") == "2001:db8:1234::"
    assert truncate_ip("not an ip") == ""


def test_export_and_erase_a_commenter(server_factory: ServerFactory, page: str):
    server = server_factory(spam={"enabled": False})
    store = server.runtime.store
    parent = post(server, page, email="Erin@Example.org", website="https://erin.example")
    reply = post(server, page, author="Other", parent=parent["id"], email="other@x.org")
    lone = post(server, page, email="erin@example.org", text="second one")
    store.spam_events.append(server.runtime.site_id("blog"), {"text": "x"}, False,
                             source="moderator", comment_id=lone["id"])  # fmt: skip

    exported = export_commenter(store, "ERIN@example.org")
    assert [c["id"] for c in exported["comments"]] == [parent["id"], lone["id"]]
    first = exported["comments"][0]
    assert first["text"] == "Private thoughts." and first["ip"] and first["uri"] == page
    assert first["user_agent"] == "TestAgent/1"
    orjson.dumps(exported)  # JSON-ready

    assert erase_commenter(store, "erin@example.org") == 2
    for comment_id in (parent["id"], lone["id"]):
        row = store.comments.get(comment_id)
        assert row["status"] == "deleted"
        assert (row["author"], row["email"], row["ip"], row["text"]) == ("", None, None, "")
        assert row["spam_record"] is None
    assert store.comments.get(reply["id"])["email"] == "other@x.org"
    with store.engine.connect() as conn:
        left = conn.execute(
            sa.select(sa.func.count()).where(spam_event.c.comment_id == lone["id"])
        ).scalar()
    assert left == 0
    with server.client() as http:
        thread = http.get("/api/comments", params={"uri": page}).json()
    # The erased parent keeps its place as a placeholder, because someone replied to it.
    assert [c["deleted"] for c in thread["comments"]] == [True]
    assert thread["comments"][0]["replies"][0]["id"] == reply["id"]
    assert "Erin" not in orjson.dumps(thread).decode()
    assert export_commenter(store, "erin@example.org")["comments"] == []


def test_cli_export_erase_purge(server_factory: ServerFactory, tmp_path, monkeypatch):
    from palabre.privacy.cli import privacy_cli

    server = server_factory(spam={"enabled": False})
    post(server, "/cli", email="cli@x.org")
    monkeypatch.setenv("PALABRE_DATABASE_URL", server.settings.resolved_database_url)
    monkeypatch.setenv("PALABRE_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    out = tmp_path / "export.json"
    result = runner.invoke(privacy_cli, ["export", "cli@x.org", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert orjson.loads(out.read_bytes())["comments"][0]["email"] == "cli@x.org"
    result = runner.invoke(privacy_cli, ["erase", "cli@x.org", "--yes"])
    assert result.exit_code == 0 and "erased 1 comment" in result.output
    result = runner.invoke(privacy_cli, ["purge"])
    assert result.exit_code == 0 and "spam deleted" in result.output
