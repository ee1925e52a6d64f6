"""Helpers for the Akismet API tests: keys made by the CLI's code, real clients retargeted.

The PyPI ``akismet`` client hard-codes https://rest.akismet.com; its public ``http_client=``
hook with a rewriting transport points it at the live test server (spec section 7).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import akismet
import httpx
import pytest

from palabre.akismet.keys import create_key
from tests.conftest import LiveServer

BLOG = "https://blog.example.com/"


def _retarget(request: httpx.Request, base: httpx.URL) -> None:
    request.url = request.url.copy_with(
        scheme=base.scheme,
        host=base.host,
        port=base.port,
        path=base.path.rstrip("/") + request.url.path,
    )
    request.headers["Host"] = base.netloc.decode()


class SelfHosted(httpx.BaseTransport):
    def __init__(self, base_url: str) -> None:
        self.base, self.inner = httpx.URL(base_url), httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _retarget(request, self.base)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class AsyncSelfHosted(httpx.AsyncBaseTransport):
    def __init__(self, base_url: str) -> None:
        self.base, self.inner = httpx.URL(base_url), httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _retarget(request, self.base)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


HEADERS = {"User-Agent": akismet.USER_AGENT}


def sync_client(server: LiveServer, key: str, blog: str = BLOG, **http: Any) -> akismet.SyncClient:
    """A real client; ``http`` goes to its httpx.Client (``params={"api_key": key}`` lets
    key_sites() send the key, which that client otherwise leaves out)."""
    client = httpx.Client(transport=SelfHosted(server.url), headers=HEADERS, timeout=10, **http)
    return akismet.SyncClient(config=akismet.Config(key=key, url=blog), http_client=client)


def async_http(server: LiveServer, **http: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=AsyncSelfHosted(server.url), headers=HEADERS, timeout=10, **http
    )


def new_key(server: LiveServer, blog: str = BLOG) -> str:
    """A fresh key, made by the same function ``palabre keys create`` calls."""
    key, _ = create_key(server.runtime.store, blog)
    return key


@pytest.fixture
def key(server: LiveServer) -> str:
    return new_key(server)


@pytest.fixture
def raw(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http
