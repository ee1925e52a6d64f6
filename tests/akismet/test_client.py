"""The PyPI ``akismet`` client (sync and async) against the live server, every endpoint."""

from __future__ import annotations

import asyncio

import akismet
import pytest

from tests.akismet.conftest import BLOG, async_http, new_key, sync_client
from tests.conftest import LiveServer

HAM = "Thanks for the clear write-up, the part about the council budget helped me a lot."
IP = "203.0.113.5"


def test_verify_key(server: LiveServer, key: str):
    with sync_client(server, key) as client:
        assert client.verify_key() is True
        assert client.verify_key(key="zzzzzzzzzzzz", url=BLOG) is False
        assert client.verify_key(key=key, url="not a url") is False
    with akismet.SyncClient.validated_client(
        config=akismet.Config(key=key, url=BLOG), http_client=sync_client(server, key)._http_client
    ) as validated:
        assert validated.verify_key() is True


def test_unknown_key_is_refused_like_akismet(server: LiveServer):
    client = sync_client(server, "abcdefghijkl")
    with pytest.raises(akismet.APIKeyError):
        client.comment_check(user_ip=IP, comment_content=HAM)
    with pytest.raises(akismet.APIKeyError):
        client.usage_limit()
    client._http_client.close()
    with pytest.raises(akismet.APIKeyError):
        akismet.SyncClient.validated_client(
            config=akismet.Config(key="abcdefghijkl", url=BLOG),
            http_client=sync_client(server, "abcdefghijkl")._http_client,
        )


def test_ham_and_every_test_trigger(server: LiveServer, key: str):
    ham, spam = akismet.CheckResponse.HAM, akismet.CheckResponse.SPAM
    with sync_client(server, key) as client:
        check = client.comment_check
        assert (
            check(
                user_ip=IP,
                comment_content=HAM,
                comment_author="Ada",
                comment_type="comment",
                is_test=True,
            )
            == ham
        )
        assert (
            check(
                user_ip=IP,
                comment_content=HAM,
                comment_author="akismet-guaranteed-spam",
                is_test=True,
            )
            == spam
        )
        assert (
            check(user_ip=IP, comment_content=HAM, comment_author="viagra-test-123", is_test=True)
            == spam
        )
        assert (
            check(
                user_ip=IP,
                comment_content=HAM,
                is_test=True,
                comment_author_email="akismet-guaranteed-spam@example.com",
            )
            == spam
        )
        spammy = "CHEAP PILLS!!! buy now http://pills.example/buy http://pills.example/x"
        assert (
            check(user_ip=IP, comment_content=spammy, user_role="administrator", is_test=True)
            == ham
        )
        assert (
            check(
                user_ip=IP,
                comment_content=HAM,
                user_role="administrator",
                comment_author="akismet-guaranteed-spam",
                is_test=True,
            )
            == spam
        )


def test_a_signup_check_without_comment_text_is_not_spam(server: LiveServer, key: str):
    """Akismet clients check registrations too: comment_type=signup, no comment content.
    With nothing to read, the text must not count as evidence either way."""
    with sync_client(server, key) as client:
        verdict = client.comment_check(
            user_ip=IP,
            comment_type="signup",
            comment_author="Grace Hopper",
            comment_author_email="grace@example.org",
        )
    assert verdict == akismet.CheckResponse.HAM


def test_submissions_and_usage_counters(server: LiveServer):
    key = new_key(server)
    with sync_client(server, key, params={"api_key": key}) as client:
        assert client.usage_limit() == {
            "limit": "none",
            "usage": 0,
            "percentage": "0.00",
            "throttled": False,
        }
        assert client.comment_check(user_ip=IP, comment_content=HAM, comment_author="Ada") == 0
        assert (
            client.comment_check(
                user_ip=IP, comment_content=HAM, comment_author="akismet-guaranteed-spam"
            )
            == 1
        )
        # is_test requests are classified but never counted.
        client.comment_check(user_ip=IP, comment_content=HAM, is_test=True)
        assert client.usage_limit()["usage"] == 2
        # Akismet said ham, the site says spam: a missed spam; and the other way round.
        assert client.submit_spam(user_ip=IP, comment_content=HAM, comment_author="Ada") is True
        assert (
            client.submit_ham(
                user_ip=IP, comment_content=HAM, comment_author="akismet-guaranteed-spam"
            )
            is True
        )
        sites = client.key_sites()
        [month] = [name for name in sites if name not in ("limit", "offset", "total")]
        assert sites["total"] == 1 and sites["limit"] == 500 and sites["offset"] == 0
        assert sites[month] == [
            {
                "site": BLOG,
                "api_calls": "2",
                "spam": "1",
                "ham": "1",
                "missed_spam": "1",
                "false_positives": "1",
                "is_revoked": False,
            }
        ]
        csv_text = client.key_sites(result_format="csv", order="spam")
        title, header, row = csv_text.split("\n")
        assert title == f"Active sites for {key} during {month} (limit:500, offset: 0, total: 1)"
        assert header == "Site,Total API Calls,Spam,Ham,Missed Spam,False Positives,Is Revoked"
        assert row == f"{BLOG},2,1,1,1,1,false"
        assert client.key_sites(url_filter="elsewhere.example")["total"] == 0
        assert client.key_sites(month="2001-01")["2001-01"] == []


def test_key_sites_without_a_key_is_invalid(server: LiveServer, key: str):
    """The PyPI client's key_sites() sends no key: the server will not guess one."""
    with sync_client(server, key) as client, pytest.raises(akismet.APIKeyError):
        client.key_sites()


def test_async_client_every_endpoint(server: LiveServer):
    key = new_key(server)

    async def scenario() -> None:
        config = akismet.Config(key=key, url=BLOG)
        client = await akismet.AsyncClient.validated_client(
            config=config, http_client=async_http(server, params={"api_key": key})
        )
        async with client:
            assert await client.verify_key() is True
            assert await client.comment_check(user_ip=IP, comment_content=HAM) == 0
            assert (
                await client.comment_check(
                    user_ip=IP, comment_author_email="akismet-guaranteed-spam@example.com"
                )
                == akismet.CheckResponse.SPAM
            )
            assert (
                await client.comment_check(
                    user_ip=IP, comment_content=HAM, user_role="administrator,super_admin"
                )
                == akismet.CheckResponse.HAM
            )
            assert await client.submit_ham(user_ip=IP, comment_content=HAM) is True
            assert await client.submit_spam(user_ip=IP, comment_content=HAM, is_test=True)
            assert (await client.usage_limit())["usage"] == 3
            sites = await client.key_sites()
            assert sites["total"] == 1
            assert "Site,Total API Calls" in await client.key_sites(result_format="csv")
        bad = akismet.AsyncClient(
            config=akismet.Config(key="abcdefghijkl", url=BLOG), http_client=async_http(server)
        )
        assert await bad.verify_key() is False
        with pytest.raises(akismet.APIKeyError):
            await bad.comment_check(user_ip=IP, comment_content=HAM)
        await bad._http_client.aclose()

    asyncio.run(scenario())
