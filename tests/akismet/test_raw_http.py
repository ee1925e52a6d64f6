"""The protocol over raw HTTP: where keys travel, exact bodies and headers, bad input."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import httpx
import pytest

from palabre.akismet.keys import revoke_key
from palabre.store.akismet import hash_key
from tests.akismet.conftest import BLOG, new_key
from tests.conftest import LiveServer

HAM = "Thanks for the clear write-up, the part about the council budget helped me a lot."
IP = "198.51.100.7"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def check_form(key: str | None = None, **fields: str) -> dict[str, str]:
    form = {"blog": BLOG, "user_ip": IP, "comment_content": HAM, "comment_author": "Ada"}
    if key:
        form["api_key"] = key
    return form | fields


def assert_text(response: httpx.Response, body: str) -> None:
    assert response.status_code == 200
    assert response.content == body.encode()  # exact: no trailing newline, no whitespace
    assert response.headers["content-type"].startswith("text/plain")


def logged_record(server: LiveServer, key: str, guid: str) -> dict:
    server.app.state.akismet.checks.flush()  # the log is written behind the answer
    store = server.runtime.store
    found = store.akismet.find_key(key)
    check = store.akismet.find_check(found.id, guid=guid)
    assert check is not None
    return check.record


def test_exact_bodies_and_guid(raw: httpx.Client, key: str):
    assert_text(raw.post("/1.1/verify-key", data={"api_key": key, "blog": BLOG}), "valid")
    response = raw.post("/1.1/comment-check", data=check_form(key))
    assert_text(response, "false")
    guid = response.headers["x-akismet-guid"]
    assert re.fullmatch("[0-9a-f]{32}", guid)
    assert "x-akismet-pro-tip" not in response.headers
    time.sleep(0.002)
    later = raw.post("/1.1/comment-check", data=check_form(key)).headers["x-akismet-guid"]
    assert later[:12] > guid[:12]  # time-ordered, so the log's guid index grows at its end
    thanks = "Thanks for making the web a better place."
    assert_text(raw.post("/1.1/submit-ham", data=check_form(key)), thanks)
    assert_text(raw.post("/1.1/submit-spam", data=check_form(key, is_test="1")), thanks)


def test_legacy_key_parameter(raw: httpx.Client, key: str):
    assert_text(raw.post("/1.1/verify-key", data={"key": key, "blog": BLOG}), "valid")
    assert_text(raw.post("/1.1/verify-key", data={"key": "nothere12345", "blog": BLOG}), "invalid")


@pytest.mark.parametrize("host_suffix", ["rest.akismet.com", "akismet.test:8000", "localhost"])
def test_key_in_host_subdomain(server: LiveServer, host_suffix: str):
    key = new_key(server)
    with httpx.Client(base_url=server.url, headers={"Host": f"{key}.{host_suffix}"}) as http:
        assert_text(http.post("/1.1/verify-key", data={"blog": BLOG}), "valid")
        response = http.post(
            "/1.1/comment-check", data=check_form(comment_author="akismet-guaranteed-spam")
        )
        assert_text(response, "true")
        assert_text(
            http.post("/1.1/submit-spam", data=check_form()),
            "Thanks for making the web a better place.",
        )
        assert http.get("/1.2/usage-limit").json()["usage"] == 1
    with httpx.Client(base_url=server.url, headers={"Host": f"zzzz{key[4:]}x.example"}) as http:
        assert_text(http.post("/1.1/verify-key", data={"blog": BLOG}), "invalid")


def test_test_discard_and_pro_tip(raw: httpx.Client, key: str):
    response = raw.post("/1.1/comment-check", data=check_form(key, test_discard="1"))
    assert_text(response, "true")
    assert response.headers["x-akismet-pro-tip"] == "discard"


@pytest.mark.parametrize("value", ["1", "true", "True", "yes"])
def test_is_test_is_never_counted(server: LiveServer, raw: httpx.Client, value: str):
    key = new_key(server)
    assert_text(raw.post("/1.1/comment-check", data=check_form(key, is_test=value)), "false")
    assert raw.get("/1.2/usage-limit", params={"api_key": key}).json()["usage"] == 0


@pytest.mark.parametrize(
    "context",
    [
        [("comment_context", "cooking")],
        [("comment_context[]", "cooking"), ("comment_context[]", "baking")],
        [("comment_context[1]", "baking"), ("comment_context[0]", "cooking")],
    ],
)
def test_comment_context_variants(server: LiveServer, raw: httpx.Client, key: str, context):
    fields = (
        list(check_form(key).items())
        + context
        + [("unknown_field", "kept quiet"), ("POST_ak_js", "1712"), ("charset", "UTF-8")]
    )
    response = raw.post("/1.1/comment-check", content=urlencode(fields), headers=FORM)
    assert_text(response, "false")
    expected = ["cooking", "baking"][: len(context)]
    record = logged_record(server, key, response.headers["x-akismet-guid"])
    assert record["akismet"]["comment_context"] == expected
    assert "unknown_field" not in str(record)


def test_missing_fields(raw: httpx.Client, key: str):
    for name in ("user_ip", "blog"):
        form = check_form(key)
        del form[name]
        for endpoint in ("comment-check", "submit-spam", "submit-ham"):
            response = raw.post(f"/1.1/{endpoint}", data=form)
            assert_text(response, f"Missing required field: {name}.")
            assert response.headers["x-akismet-debug-help"] == f'Empty "{name}" value'
    response = raw.post("/1.1/comment-check", data=check_form(key, user_ip="  "))
    assert_text(response, "Missing required field: user_ip.")
    response = raw.post("/1.1/comment-check", data=check_form(key, blog="not a url"))
    assert_text(response, "invalid")
    assert "blog URI" in response.headers["x-akismet-debug-help"]
    response = raw.post("/1.1/comment-check", data=check_form())
    assert_text(response, "invalid")
    assert "api_key" in response.headers["x-akismet-debug-help"]
    assert_text(raw.post("/1.1/verify-key", data={"api_key": key}), "invalid")


def test_revoked_key(server: LiveServer, raw: httpx.Client):
    key = new_key(server)
    assert_text(raw.post("/1.1/comment-check", data=check_form(key)), "false")
    revoke_key(server.runtime.store, key)
    for endpoint in ("comment-check", "submit-spam", "submit-ham"):
        response = raw.post(f"/1.1/{endpoint}", data=check_form(key))
        assert_text(response, "invalid")
        assert "revoked" in response.headers["x-akismet-debug-help"]
    assert_text(raw.post("/1.1/verify-key", data={"key": key, "blog": BLOG}), "invalid")
    assert_text(raw.get("/1.2/usage-limit", params={"api_key": key}), "invalid")
    assert_text(raw.get("/1.2/key-sites", params={"api_key": key}), "invalid")


def test_bodies_that_are_not_form_encoded(raw: httpx.Client, key: str):
    response = raw.post("/1.1/comment-check", json=check_form(key))
    assert_text(response, "invalid")
    assert "application/x-www-form-urlencoded" in response.headers["x-akismet-debug-help"]
    garbage = bytes(range(256)) * 8
    for content_type in (
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
    ):
        response = raw.post(
            "/1.1/comment-check", content=garbage, headers={"Content-Type": content_type}
        )
        assert_text(response, "invalid")
    # Odd charsets and broken escapes still parse as a form.
    response = raw.post(
        "/1.1/comment-check",
        content=f"api_key={key}&blog={BLOG}&user_ip={IP}&comment_content=caf%E9%ZZ",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=latin-9000"},
    )
    assert_text(response, "false")
    latin = raw.post(
        "/1.1/comment-check",
        content=f"api_key={key}&blog={BLOG}&user_ip={IP}&comment_content=caf%E9",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=ISO-8859-1"},
    )
    assert_text(latin, "false")


def test_multipart_and_query_string_are_accepted(raw: httpx.Client, key: str):
    response = raw.post("/1.1/comment-check", files={"x": (None, "y")}, data=check_form(key))
    assert_text(response, "false")
    response = raw.post(
        "/1.1/comment-check",
        params={"api_key": key},
        data=check_form(comment_author="viagra-test-123"),
    )
    assert_text(response, "true")


def test_get_endpoints_need_a_key_and_valid_options(raw: httpx.Client, key: str):
    for path in ("/1.2/usage-limit", "/1.2/key-sites"):
        assert_text(raw.get(path), "invalid")
    for bad in (
        {"month": "2024-13"},
        {"order": "bogus"},
        {"format": "xml"},
        {"limit": "x"},
        {"limit": "0"},
        {"offset": "-1"},
    ):
        response = raw.get("/1.2/key-sites", params={"api_key": key, **bad})
        assert_text(response, "invalid")
        assert response.headers["x-akismet-debug-help"]
    usage = raw.get("/1.2/usage-limit", params={"api_key": key})
    assert usage.headers["content-type"].startswith("application/json")


def test_only_the_hash_of_a_key_is_stored(server: LiveServer, key: str):
    import sqlalchemy as sa

    from palabre.store.schema import api_key

    with server.runtime.store.engine.connect() as conn:
        rows = conn.execute(sa.select(api_key.c.key_hash, api_key.c.key_hint)).all()
    assert (hash_key(key), key[:4]) in [tuple(r) for r in rows]
    assert all(key not in r.key_hash for r in rows)


def test_submission_matches_its_check_by_guid(server: LiveServer, raw: httpx.Client):
    key = new_key(server)
    check = raw.post(
        "/1.1/comment-check", data=check_form(key, comment_author="akismet-guaranteed-spam")
    )
    guid = check.headers["x-akismet-guid"]
    # Different content than the check, so only the guid can match them.
    response = raw.post(
        "/1.1/submit-ham",
        data=check_form(key, comment_content="edited"),
        headers={"X-akismet-guid": guid},
    )
    assert_text(response, "Thanks for making the web a better place.")
    sites = raw.get("/1.2/key-sites", params={"api_key": key}).json()
    [month] = [k for k in sites if k not in ("limit", "offset", "total")]
    assert sites[month][0]["false_positives"] == "1"
    store = server.runtime.store
    logged = store.akismet.find_check(store.akismet.find_key(key).id, guid=guid)
    assert logged is not None and logged.feedback == "ham"
