"""Shared fixtures: real databases (a SQLite file and the PostgreSQL server) and real HTTP.

Every server fixture runs the actual ASGI app under uvicorn on a free loopback port, so
tests go through sockets, middleware and the whole stack, as a browser or client would.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from palabre.app import create_app
from palabre.config import Settings, SiteConfig
from palabre.store import Store

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "PALABRE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_DATA = Path(os.environ.get("PALABRE_TEST_DATA", ROOT.parent / "shared" / "data"))
SITE_ORIGIN = "http://blog.test"


def shared_data(*parts: str) -> Path:
    """A file from the shared test data, or a skip that says how to provide it."""
    path = TEST_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"test data {path} not found: set PALABRE_TEST_DATA to the shared data dir")
    return path


def _postgres_reachable() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # any failure means "not here"; the reason goes in the skip
        return f"{exc.__class__.__name__}: {exc}".splitlines()[0]


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    problem = _postgres_reachable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({problem})")
    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


class DatabaseFactory:
    """Makes fresh, empty databases of one kind and removes them afterwards."""

    def __init__(self, kind: str, tmp: Path, admin: sa.Engine | None) -> None:
        self.kind = kind
        self.tmp = tmp
        self.admin = admin
        self.created: list[str] = []

    def new_url(self) -> str:
        name = f"palabre_test_{uuid.uuid4().hex[:12]}"
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        assert self.admin is not None
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def drop_all(self) -> None:
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            for name in self.created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    admin = request.getfixturevalue("postgres_admin") if request.param == "postgresql" else None
    factory = DatabaseFactory(request.param, tmp_path_factory.mktemp(request.param), admin)
    yield factory
    factory.drop_all()


@pytest.fixture
def store(databases: DatabaseFactory) -> Iterator[Store]:
    """A fresh, migrated store on each database."""
    store = Store(databases.new_url())
    store.migrate()
    yield store
    store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The real app under uvicorn in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.runtime.close()

    def client(self, origin: str | None = SITE_ORIGIN, **kwargs: Any) -> httpx.Client:
        headers = {"Origin": origin} if origin else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=20, **kwargs)


def make_settings(db_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "data_dir": data_dir,
        "sites": [SiteConfig(name="blog", origins=[SITE_ORIGIN], title="Test Blog")],
        "comments": {"rate_limit_per_minute": 0},
        # Comment-mechanics tests must not hang on a model's verdict; the tests of the
        # filter's part in posting turn it on explicitly.
        "spam": {"enabled": False},
    }
    values.update(overrides)
    return Settings(**values)


ServerFactory = Callable[..., LiveServer]


@pytest.fixture(scope="session")
def server_factory(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerFactory]:
    """``server_factory(**settings)``: a live server with its own fresh database."""
    started: list[LiveServer] = []

    def make(**overrides: Any) -> LiveServer:
        data_dir = tmp_path_factory.mktemp("data")
        server = LiveServer(make_settings(databases.new_url(), data_dir, **overrides)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(server_factory: ServerFactory) -> LiveServer:
    """The default server (one site, no moderation, no rate limit) for each database."""
    return server_factory()


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


@pytest.fixture
def page() -> str:
    """A page path no other test uses, so tests sharing a server never see each other."""
    return f"/articles/{uuid.uuid4().hex[:10]}"
