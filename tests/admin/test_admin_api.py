"""The admin API over real HTTP on SQLite and PostgreSQL: sign-in, sessions, CSRF defences,
the queue, search, bulk decisions that train the filter, per-thread view, per-day stats."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from palabre.store.schema import admin_session, spam_event
from palabre.web.accounts import AccountError, create_user
from tests.conftest import LiveServer, ServerFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def moderated(server_factory: ServerFactory) -> LiveServer:
    """Every comment waits in the queue; the filter is off so verdicts do not vary."""
    server = server_factory(
        sites=[{"name": "blog", "origins": ["http://blog.test"], "moderation": "all"}],
        spam={"enabled": False},
    )
    create_user(server.runtime.store, "mod", PASSWORD)
    return server


@contextmanager
def admin_client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=20) as http:
        response = http.post("/api/admin/login", json={"username": "mod", "password": PASSWORD})
        assert response.status_code == 200, response.text
        yield http


def post(server: LiveServer, page: str, **fields: Any) -> int:
    body = {"uri": page, "author": "Reader", "text": "A thoughtful remark."} | fields
    with server.client() as http:
        response = http.post("/api/comments", json=body)
    assert response.status_code in (201, 202), response.text
    return int(response.json()["id"])


def test_login_sets_a_strict_httponly_cookie_and_stores_only_a_hash(moderated: LiveServer):
    with httpx.Client(base_url=moderated.url) as http:
        assert http.get("/api/admin/me").json() == {"user": None}
        assert http.get("/api/admin/comments").status_code == 401
        response = http.post("/api/admin/login", json={"username": "mod", "password": PASSWORD})
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        token = http.cookies["palabre_admin"]
        assert http.get("/api/admin/me").json()["user"]["username"] == "mod"
        with moderated.runtime.store.engine.connect() as conn:
            stored = conn.execute(sa.select(admin_session.c.token_hash)).scalars().all()
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored
        assert http.post("/api/admin/logout").status_code == 200
        assert http.get("/api/admin/me").json() == {"user": None}


def test_passwords_are_argon2_hashed_and_checked(moderated: LiveServer):
    row = moderated.runtime.store.users.by_username("mod")
    assert row["password_hash"].startswith("$argon2id$")
    with pytest.raises(AccountError):
        create_user(moderated.runtime.store, "mod", PASSWORD)
    with pytest.raises(AccountError):
        create_user(moderated.runtime.store, "short", "tiny")


def test_login_is_rate_limited(server_factory: ServerFactory):
    server = server_factory(spam={"enabled": False})
    create_user(server.runtime.store, "mod", PASSWORD)
    with httpx.Client(base_url=server.url) as http:
        for _ in range(10):
            wrong = http.post("/api/admin/login", json={"username": "mod", "password": "nope"})
            assert wrong.status_code == 401
            assert wrong.json()["error"]["field"] == "password"
        blocked = http.post("/api/admin/login", json={"username": "mod", "password": PASSWORD})
        assert blocked.status_code == 429
        assert "Retry-After" in blocked.headers


def test_cross_site_and_non_json_requests_are_refused(moderated: LiveServer):
    with admin_client(moderated) as http:
        action = {"ids": [1], "action": "approve"}
        foreign = http.post("/api/admin/comments/action", json=action,
                            headers={"Origin": "http://blog.test"})  # fmt: skip
        assert foreign.status_code == 403
        assert http.get("/api/admin/comments", headers={"Sec-Fetch-Site": "cross-site"}
                        ).status_code == 403  # fmt: skip
        form = http.post("/api/admin/comments/action", content=b"ids=1&action=approve",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert form.status_code == 415
        same = http.post("/api/admin/comments/action", json=action,
                         headers={"Origin": moderated.url})  # fmt: skip
        assert same.status_code == 200


def test_queue_search_bulk_and_thread_view(moderated: LiveServer, page: str):
    first = post(moderated, page, text="The council budget is late again.", email="a@x.org")
    second = post(moderated, page, author="Zed Unique", text="Another remark", email="z@y.org")
    with admin_client(moderated) as http:
        pending = http.get("/api/admin/comments", params={"status": "pending", "limit": 200}).json()
        ids = {c["id"] for c in pending["comments"]}
        assert {first, second} <= ids
        assert pending["counts"]["pending"] >= 2
        item = next(c for c in pending["comments"] if c["id"] == first)
        assert item["email"] == "a@x.org" and item["ip"] and item["thread"]["uri"] == page
        assert set(item["spam"]) == {"score", "class", "reasons"}

        def search(q: str, field: str = "all") -> set[int]:
            found = http.get(
                "/api/admin/comments", params={"status": "all", "q": q, "field": field}
            )
            return {c["id"] for c in found.json()["comments"]}

        assert search("council budget", "text") == {first}
        assert search("zed uniq", "author") == {second}
        assert search("z@y.org", "email") == {second}
        assert search(page, "thread") == {first, second}
        assert {first, second} <= search("127.0.0", "ip")
        assert search("100%_") == set()  # LIKE wildcards are literal

        done = http.post("/api/admin/comments/action", json={"ids": [first, second],
                                                              "action": "approve"})  # fmt: skip
        assert sorted(done.json()["changed"]) == sorted([first, second])
        with moderated.client() as reader:
            public = reader.get("/api/comments", params={"uri": page}).json()
        assert {c["id"] for c in public["comments"]} == {first, second}

        http.post("/api/admin/comments/action", json={"ids": [second], "action": "delete"})
        thread_id = item["thread"]["id"]
        view = http.get(f"/api/admin/threads/{thread_id}").json()
        assert [c["status"] for c in view["comments"]] == ["approved", "deleted"]
        listed = http.get("/api/admin/threads", params={"q": page}).json()["threads"]
        assert listed[0]["id"] == thread_id
        assert listed[0]["approved"] == 1 and listed[0]["deleted"] == 1
        assert http.get("/api/admin/threads/999999").status_code == 404


def test_marking_spam_and_not_spam_trains_the_filter_at_once(moderated: LiveServer, page: str):
    comment_id = post(moderated, page, text="Cheap watches at http://spam.example", email="s@p.m")
    learned_before = moderated.runtime.spam.store.spam_events.latest_id(None)
    with admin_client(moderated) as http:
        spam = http.post("/api/admin/comments/action",
                         json={"ids": [comment_id], "action": "spam"}).json()  # fmt: skip
        assert spam == {"changed": [comment_id], "learned": 1}
        ham = http.post("/api/admin/comments/action",
                        json={"ids": [comment_id], "action": "ham"}).json()  # fmt: skip
        assert ham == {"changed": [comment_id], "learned": 1}
    with moderated.runtime.store.engine.connect() as conn:
        events = conn.execute(
            sa.select(spam_event).where(spam_event.c.id > learned_before).order_by(spam_event.c.id)
        ).all()
    assert [(e.is_spam, e.source, e.actor, e.comment_id) for e in events] == [
        (True, "moderator", "mod", comment_id),
        (False, "moderator", "mod", comment_id),
    ]
    assert events[0].record["text"].startswith("Cheap watches")
    # The in-process filter state has replayed both decisions already.
    service = moderated.runtime.spam
    key = service._key(events[0].site_id)
    assert service._applied[key] >= events[-1].id


def test_stats_per_day_include_today_and_spam(moderated: LiveServer, page: str):
    comment_id = post(moderated, page)
    moderated.runtime.store.comments.set_status([comment_id], "spam")
    with admin_client(moderated) as http:
        days = http.get("/api/admin/stats", params={"days": 7}).json()["days"]
    assert len(days) == 7
    assert days[-1]["comments"] >= 1 and days[-1]["spam"] >= 1
    assert days[0]["day"] < days[-1]["day"]
