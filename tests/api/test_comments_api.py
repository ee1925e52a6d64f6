"""The public comment API over real HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import time
from typing import Any

import httpx
import pytest

from palabre.loop_writes import POLL_FOR
from palabre.store import Store
from palabre.store.engine import write_transaction
from tests.conftest import SITE_ORIGIN, LiveServer, ServerFactory

HAM = "Thanks for the article, the part about the council budget was really clear."


def post(client: httpx.Client, page: str, **fields: Any) -> httpx.Response:
    body = {"uri": page, "author": "Ada", "text": HAM} | fields
    return client.post("/api/comments", json=body)


def thread(client: httpx.Client, page: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/comments", params={"uri": page, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_posted_comment_comes_back_rendered_and_sanitised(client: httpx.Client, page: str):
    response = post(
        client,
        page,
        title="Budget",
        email="ada@example.org",
        text="Nice **work** <script>alert(1)</script> https://example.org",
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "approved"
    assert created["edit_token"]
    data = thread(client, page)
    assert data["thread"]["title"] == "Budget"
    assert data["thread"]["count"] == 1
    [comment] = data["comments"]
    assert comment["id"] == created["id"]
    assert "<strong>work</strong>" in comment["html"]
    assert "<script>" not in comment["html"]
    assert 'rel="nofollow ugc noopener"' in comment["html"]
    assert comment["created"].endswith("Z")
    assert "email" not in comment and "ada@example.org" not in response.text
    assert len(comment["avatar"]) == 32
    assert data["config"]["form_token"]


def test_replies_nest_at_any_depth_with_reply_counts(client: httpx.Client, page: str):
    parent = post(client, page).json()["id"]
    for _ in range(6):
        parent = post(client, page, parent=parent, text=f"reply to {parent}").json()["id"]
    second_reply = post(client, page, parent=thread(client, page)["comments"][0]["id"])
    assert second_reply.status_code == 201
    [root] = thread(client, page)["comments"]
    assert root["reply_count"] == 2
    depth, node = 0, root
    while node["replies"]:
        node = node["replies"][0]
        depth += 1
    assert depth == 6


def test_cursor_pagination_is_stable_and_complete(client: httpx.Client, page: str):
    ids = [post(client, page, text=f"comment number {i}").json()["id"] for i in range(7)]
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"after": cursor} if cursor else {})
        data = thread(client, page, **params)
        seen += [c["id"] for c in data["comments"]]
        cursor = data["next"]
        if cursor is None:
            break
    assert seen == ids
    newest = [c["id"] for c in thread(client, page, sort="newest", limit=50)["comments"]]
    assert newest == ids[::-1]


def test_top_sort_and_one_vote_per_reader(server: LiveServer, page: str):
    with server.client() as alice, server.client() as bob:
        first = post(alice, page).json()["id"]
        second = post(alice, page, text="another thoughtful remark").json()["id"]
        assert alice.post(f"/api/comments/{second}/vote", json={"value": 1}).json()["votes"] == 1
        # The same reader voting twice still counts once.
        assert alice.post(f"/api/comments/{second}/vote", json={"value": 1}).json()["votes"] == 1
        assert bob.post(f"/api/comments/{second}/vote", json={"value": 1}).json()["votes"] == 2
        assert alice.post(f"/api/comments/{second}/vote", json={"value": -1}).json()["votes"] == 0
        assert bob.post(f"/api/comments/{first}/vote", json={"value": -1}).json()["votes"] == -1
        order = [c["id"] for c in thread(alice, page, sort="top")["comments"]]
        assert order == [second, first]
        cookie = alice.cookies.get("palabre_reader")
        assert cookie
        bad = alice.post(f"/api/comments/{first}/vote", json={"value": 5})
        assert bad.status_code == 422
        assert bad.json()["error"]["field"] == "value"


def test_counts_for_many_pages_in_one_request(client: httpx.Client, page: str):
    other = page + "-b"
    for _ in range(3):
        post(client, page)
    response = client.get("/api/counts", params=[("uri", page), ("uri", other)])
    assert response.json() == {page: 3, other: 0}


def test_author_edits_and_deletes_with_token(client: httpx.Client, page: str):
    created = post(client, page).json()
    headers = {"Authorization": f"Bearer {created['edit_token']}"}
    edited = client.patch(
        f"/api/comments/{created['id']}", json={"text": "*edited*"}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["html"] == "<p><em>edited</em></p>"
    assert edited.json()["edited"] is not None
    assert client.delete(f"/api/comments/{created['id']}", headers=headers).status_code == 200
    assert thread(client, page)["comments"] == []


def test_deleting_a_comment_with_replies_leaves_a_placeholder(client: httpx.Client, page: str):
    created = post(client, page).json()
    reply = post(client, page, parent=created["id"], text="I disagree").json()
    headers = {"Authorization": f"Bearer {created['edit_token']}"}
    assert client.delete(f"/api/comments/{created['id']}", headers=headers).status_code == 200
    [placeholder] = thread(client, page)["comments"]
    assert placeholder["deleted"] is True
    assert placeholder["html"] == "" and placeholder["author"] == ""
    assert placeholder["replies"][0]["id"] == reply["id"]


def test_forged_and_foreign_edit_tokens_are_refused(client: httpx.Client, page: str):
    first = post(client, page).json()
    second = post(client, page).json()
    forged = client.patch(
        f"/api/comments/{first['id']}",
        json={"text": "x"},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert forged.status_code == 403
    assert forged.json()["error"]["field"] == "token"
    foreign = client.delete(
        f"/api/comments/{first['id']}", headers={"Authorization": f"Bearer {second['edit_token']}"}
    )
    assert foreign.status_code == 403
    missing = client.delete(f"/api/comments/{first['id']}")
    assert missing.status_code == 401
    assert [c["id"] for c in thread(client, page)["comments"]] == [first["id"], second["id"]]


def test_edit_window_closes(server_factory: ServerFactory, page: str):
    server = server_factory(comments={"edit_window": 1, "rate_limit_per_minute": 0})
    with server.client() as client:
        created = post(client, page).json()
        time.sleep(2.2)
        late = client.patch(
            f"/api/comments/{created['id']}",
            json={"text": "too late"},
            headers={"Authorization": f"Bearer {created['edit_token']}"},
        )
        assert late.status_code == 403
        assert "window" in late.json()["error"]["message"]
        assert thread(client, page)["comments"][0]["html"] == f"<p>{HAM}</p>"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"uri": "/p", "text": "hello"}, 422, "author"),
        ({"uri": "/p", "author": "A"}, 422, "text"),
        ({"uri": "/p", "author": "A", "text": "   "}, 400, "text"),
        ({"uri": "/p", "author": "  ", "text": "hi"}, 400, "author"),
        ({"uri": "/p", "author": "A", "text": "x" * 10_001}, 400, "text"),
        ({"uri": "/p", "author": "A" * 81, "text": "hi"}, 400, "author"),
        ({"uri": "", "author": "A", "text": "hi"}, 400, "uri"),
        ({"uri": "https://evil.test/p", "author": "A", "text": "hi"}, 403, "uri"),
        ({"uri": "/p", "author": "A", "text": "hi", "email": "nope"}, 400, "email"),
        (
            {"uri": "/p", "author": "A", "text": "hi", "website": "javascript:alert(1)"},
            400,
            "website",
        ),
        ({"uri": "/p", "author": "A", "text": "hi", "parent": 99999999}, 400, "parent"),
        ({"uri": "/p", "author": "A", "text": "hi", "surprise": 1}, 422, "surprise"),
        ({"uri": "/p", "author": "A", "text": 5}, 422, "text"),
        ([1, 2], 422, "body"),
    ],
)
def test_bad_comments_get_a_named_field_and_write_nothing(
    client: httpx.Client, body: Any, status: int, field: str
):
    before = client.get("/api/counts", params={"uri": "/p"}).json()["/p"]
    response = client.post("/api/comments", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert response.json()["error"]["message"]
    assert client.get("/api/counts", params={"uri": "/p"}).json()["/p"] == before


def test_malformed_json_wrong_type_and_oversize_body(client: httpx.Client):
    headers = {"Content-Type": "application/json"}
    broken = client.post("/api/comments", content=b'{"uri": "/p",', headers=headers)
    assert broken.status_code == 400
    assert broken.json()["error"]["message"] == "is not valid JSON"
    form = client.post("/api/comments", data={"uri": "/p", "author": "A", "text": "hi"})
    assert form.status_code == 415
    assert form.json()["error"]["field"] == "content-type"
    huge = client.post("/api/comments", content=b"x" * (300 * 1024), headers=headers)
    assert huge.status_code == 413
    assert huge.json()["error"]["field"] == "body"
    invalid_utf8 = client.post(
        "/api/comments", content=b'{"uri":"/p","author":"\xff","text":"a"}', headers=headers
    )
    assert invalid_utf8.status_code == 400


def test_parent_from_another_page_is_refused(client: httpx.Client, page: str):
    elsewhere = post(client, page + "-other").json()["id"]
    response = post(client, page, parent=elsewhere)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "field": "parent",
        "message": f"comment {elsewhere} belongs to another page",
    }
    assert thread(client, page)["thread"]["id"] is not None or True


def test_foreign_origin_is_refused_and_cors_names_only_site_origins(server: LiveServer):
    with server.client(origin="https://evil.test") as evil:
        response = post(evil, "/p")
        assert response.status_code == 403
        assert response.json()["error"]["field"] == "origin"
        assert "access-control-allow-origin" not in response.headers
    with server.client() as good:
        preflight = good.options(
            "/api/comments",
            headers={
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.headers["access-control-allow-origin"] == SITE_ORIGIN


def test_rate_limit_answers_429_with_retry_after(server_factory: ServerFactory, page: str):
    server = server_factory(comments={"rate_limit_per_minute": 2})
    with server.client() as client:
        assert post(client, page).status_code == 201
        assert post(client, page).status_code == 201
        limited = post(client, page)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert thread(client, page)["thread"]["count"] == 2


def test_moderation_all_holds_comments_for_their_author_only(
    server_factory: ServerFactory, page: str
):
    server = server_factory(sites=[{"name": "mod", "origins": [SITE_ORIGIN], "moderation": "all"}])
    with server.client() as client:
        held = post(client, page)
        assert held.status_code == 202
        assert held.json()["status"] == "pending"
        assert held.json()["html"]  # the author sees their own comment in the response
        assert thread(client, page)["comments"] == []


def test_first_comment_mode_trusts_an_email_after_one_approval(
    server_factory: ServerFactory, page: str
):
    server = server_factory(
        sites=[{"name": "fc", "origins": [SITE_ORIGIN], "moderation": "first-comment"}]
    )
    with server.client() as client:
        first = post(client, page, email="reader@example.org")
        assert first.status_code == 202
        server.runtime.store.comments.set_status([first.json()["id"]], "approved")
        second = post(client, page, email="reader@example.org", text="Back again, good piece.")
        assert second.status_code == 201
        stranger = post(client, page, email="new@example.org")
        assert stranger.status_code == 202


@pytest.fixture(scope="session")
def filtered(server_factory: ServerFactory) -> LiveServer:
    return server_factory(spam={"enabled": True})


def test_a_genuine_comment_passes_the_filter(filtered: LiveServer, page: str):
    with filtered.client() as client:
        response = post(client, page)
        assert response.status_code == 201, response.text
        row = filtered.runtime.store.comments.get(response.json()["id"])
        assert row["spam_class"] == "ham" and row["spam_score"] < 0.5


def test_quoting_the_pages_own_address_is_not_a_link(filtered: LiveServer, page: str):
    text = "Read it twice; the part on the budget vote is the key."
    with filtered.client() as client:
        ids = [
            post(client, page, text=body).json()["id"]
            for body in (text, f"{text} {SITE_ORIGIN}{page}", f"{text} https://elsewhere.example/x")
        ]
    plain, quoting, elsewhere = (filtered.runtime.store.comments.get(i) for i in ids)
    assert quoting["spam_score"] == pytest.approx(plain["spam_score"])
    assert elsewhere["spam_score"] > plain["spam_score"]
    assert "1 link" in str(elsewhere["spam_reasons"]) and "link" not in str(quoting["spam_reasons"])


def test_obvious_spam_is_held_with_reasons_stored(filtered: LiveServer, page: str):
    server = filtered
    with server.client() as client:
        spam = post(
            client,
            page,
            author="Cheap Pills",
            website="http://bit.ly/x",
            text="BUY CHEAP VIAGRA NOW!!! http://bit.ly/abc http://tinyurl.com/xyz "
            "WhatsApp +1 555 123 4567 FREE MONEY click here",
            honeypot="i am a bot",
        )
        assert spam.status_code == 202
        assert spam.json()["status"] == "spam"
        row = server.runtime.store.comments.get(spam.json()["id"])
        assert row["spam_score"] > 0.5
        assert row["spam_reasons"]
        assert thread(client, page)["comments"] == []


def test_atom_feeds(client: httpx.Client, page: str):
    post(client, page, title="Feeds <&> things", text="feed me")
    feed = client.get("/feed/thread.atom", params={"uri": page})
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert b"Feeds &lt;&amp;&gt; things" in feed.content
    assert b"&lt;p&gt;feed me&lt;/p&gt;" in feed.content
    latest = client.get("/feed/latest.atom")
    assert latest.status_code == 200 and b"<entry>" in latest.content
    missing = client.get("/feed/thread.atom", params={"uri": page + "-none"})
    assert missing.status_code == 404


def test_openapi_is_served(client: httpx.Client):
    spec = client.get("/api/openapi.json").json()
    assert "/api/comments" in spec["paths"]
    assert "/api/counts" in spec["paths"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("website", "[x](javascript:y)"), ("uri", "http://[broken/p"), ("website", "http://[::1")],
)
def test_malformed_urls_are_field_errors(client: httpx.Client, field: str, value: str):
    body = {"uri": "/malformed", "author": "x", "text": "x"} | {field: value}
    response = client.post("/api/comments", json=body)
    assert response.status_code in (400, 403), response.text
    assert response.json()["error"]["field"] == field


def test_a_post_waiting_for_the_sqlite_writer_lock_does_not_stall_reads(
    server: LiveServer, client: httpx.Client, page: str
):
    """Another process (a second worker, an import) holds the writer lock: the post waits
    for it without blocking the event loop, first retrying on the loop, then (past
    POLL_FOR) in a thread, so the same server keeps answering reads all along."""
    if server.runtime.store.dialect != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no single writer lock")
    ctx = multiprocessing.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_writer_lock, args=(server.runtime.store.url, held, release))
    holder.start()
    try:
        assert held.wait(30)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            started = time.perf_counter()
            pending = pool.submit(post, server.client(), page, text="written once the lock is free")
            for wait_until in (0.3, POLL_FOR + 0.3):  # retrying on the loop, then in a thread
                time.sleep(max(0.0, wait_until - (time.perf_counter() - started)))
                assert not pending.done()  # it is waiting for the lock ...
                read_at = time.perf_counter()
                assert client.get("/api/counts", params={"uri": page}).status_code == 200
                assert time.perf_counter() - read_at < 0.25  # ... and reads still flow
            release.set()
            assert pending.result(timeout=30).status_code == 201
    finally:
        release.set()
        holder.join(30)
    [comment] = thread(client, page)["comments"]
    assert comment["html"] == "<p>written once the lock is free</p>"


def _hold_writer_lock(url: str, held: Any, release: Any) -> None:
    store = Store(url)
    with write_transaction(store.engine):
        held.set()
        release.wait(10)
    store.close()
