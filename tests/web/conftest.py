"""Browser fixtures: headless Chromium from the system (never a downloaded browser), driven by
Playwright, against the real app on a SQLite file. Screenshots of failures go to
``test-artifacts/``.

The page must be served from a site origin for the widget to post, so these servers are
configured with their own loopback origin (the shared ``server`` fixture's site is
``http://blog.test``, which a browser cannot reach).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from palabre.app import create_app
from palabre.config import Settings, SiteConfig
from tests.conftest import ROOT, LiveServer, free_port

CHROMIUM = os.environ.get("PALABRE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
ADMIN_USER = "editor"
ADMIN_PASSWORD = "a long enough password"


class BrowserServer(LiveServer):
    """A live server whose only site is its own loopback origin."""

    def __init__(self, tmp: Path, **overrides: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{tmp / 'palabre.db'}",
            "data_dir": tmp,
            "sites": [SiteConfig(name="demo", origins=[self.url],
                                 moderation=overrides.pop("moderation", "none"))],
            "comments": {"rate_limit_per_minute": 0} | overrides.pop("comments", {}),
            "spam": {"enabled": False},
        }  # fmt: skip
        values.update(overrides)
        self.settings = Settings(**values)
        self.app = create_app(self.settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        import threading

        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def add_admin(self) -> None:
        from palabre.web.accounts import create_user

        if self.runtime.store.users.by_username(ADMIN_USER) is None:
            create_user(self.runtime.store, ADMIN_USER, ADMIN_PASSWORD)


BrowserServerFactory = Callable[..., BrowserServer]


@pytest.fixture(scope="session")
def browser_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BrowserServerFactory]:
    started: list[BrowserServer] = []

    def make(**overrides: Any) -> BrowserServer:
        server = BrowserServer(tmp_path_factory.mktemp("browser"), **overrides).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def live(browser_server_factory: BrowserServerFactory) -> BrowserServer:
    """Comments published at once (no moderation, filter off: deterministic)."""
    return browser_server_factory()


@pytest.fixture(scope="session")
def moderated(browser_server_factory: BrowserServerFactory) -> BrowserServer:
    """Every comment waits for a moderator."""
    server = browser_server_factory(moderation="all")
    server.add_admin()
    return server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        message = (
            f"Chromium not found at {CHROMIUM}: install Debian's package "
            "(apt-get update && apt-get install -y chromium) or set PALABRE_CHROMIUM"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


class Watched:
    """A page with its console errors, uncaught exceptions, dialogs and requests recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("dialog", self._dialog)
        page.on("request", lambda r: self.requests.append(r.url))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def executed(self) -> list[str]:
        """What the hooked alert/confirm/prompt/print saw: should always be empty."""
        return list(self.page.evaluate("window.__palabreXss || []")) + self.dialogs


# Installed before any page script: a payload that runs would call one of these.
HOOKS = """
window.__palabreXss = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__palabreXss.push(name + ":" + args.join(",")); };
}
"""


@pytest.fixture
def watched(browser: Any, request: pytest.FixtureRequest) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.add_init_script(HOOKS)
    context.set_default_timeout(10_000)
    page = context.new_page()
    spy = Watched(page)
    yield spy
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        try:
            for index, open_page in enumerate(context.pages):
                open_page.screenshot(path=str(ARTIFACTS / f"{name}-{index}.png"), full_page=True)
        except Exception as exc:  # the screenshot must never hide the real failure
            print(f"screenshot failed: {exc}")
    context.close()


def wait_for_thread(page: Any) -> None:
    """The widget has rendered the thread (its count heading is filled in)."""
    page.wait_for_function(
        "document.querySelector('.pal-count') && "
        "!document.querySelector('.pal-count').textContent.includes('…')"
    )
    time.sleep(0.05)
