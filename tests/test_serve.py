"""The README's first command, end to end: `palabre serve` in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from palabre.cli import SETTINGS_ENV, prepare_serve
from tests.conftest import free_port

# Libraries serve's supervisor process must not carry: it lives as long as the server, and
# only starts and watches the workers. Checked by the shared objects mapped into the process.
HEAVY_LIBRARIES = ("pydantic_core", "sqlalchemy", "numpy", "_argon2_cffi_bindings")


def _serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = os.environ | {"PALABRE_DATA_DIR": str(tmp_path / "data")}
    env = {k: v for k, v in env.items() if k not in ("PALABRE_DATABASE_URL", "PALABRE_CONFIG")}
    return env | extra


def _start_serve(tmp_path: Path, port: int, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "palabre", "serve", "--port", str(port), *options],
        env=_serve_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_until_it_answers(process: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert time.monotonic() < deadline, "palabre serve did not answer within 60 s"
        time.sleep(0.2)


def test_serve_starts_on_sqlite_shows_the_demo_and_keeps_a_comment(tmp_path: Path) -> None:
    port = free_port()
    process = _start_serve(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_it_answers(process, base)
        page = httpx.get(base + "/").text
        assert "embed.js" in page
        posted = httpx.post(
            base + "/api/comments", json={"uri": "/", "author": "Curl", "text": "Hello from a test"}
        )
        assert posted.status_code in (201, 202), posted.text
        if posted.status_code == 201:
            thread = httpx.get(base + "/api/comments", params={"uri": "/"}).json()
            assert [c["id"] for c in thread["comments"]] == [posted.json()["id"]]
        assert (tmp_path / "data" / "palabre.db").exists()
        assert (tmp_path / "data" / "secrets.toml").exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"{base}/" in output and f"{base}/admin" in output
    assert "first admin account" in output


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc (Linux)")
def test_serve_with_two_workers_prepares_in_a_child_and_keeps_the_supervisor_lean(
    tmp_path: Path,
) -> None:
    port = free_port()
    process = _start_serve(tmp_path, port, "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_it_answers(process, base)
        assert httpx.get(base + "/api/comments", params={"uri": "/"}).status_code == 200
        mapped = Path(f"/proc/{process.pid}/maps").read_text()
        assert [name for name in HEAVY_LIBRARIES if name in mapped] == []
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    # The banner was made in the preparing child and printed by the supervisor.
    assert f"{base}/admin" in output and "first admin account" in output


def test_importing_the_cli_loads_neither_settings_nor_the_store() -> None:
    heavy = ("pydantic", "sqlalchemy", "numpy", "alembic", "argon2", "fastapi")
    script = f"import sys, palabre.cli; print(sorted(set({heavy!r}) & sys.modules.keys()))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_serve_workers_build_the_app_without_loading_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _serve_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PALABRE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PALABRE_CONFIG", raising=False)
    plan = prepare_serve(None, "127.0.0.1", free_port())  # migrates, as serve does
    script = (
        "import sys\nfrom palabre.cli import app_from_environment\n"
        "app = app_from_environment()\n"
        "print(app.title, 'alembic' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=os.environ | {SETTINGS_ENV: plan.settings_json},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Palabre", "False"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_with_a_bad_config_says_what_to_fix(tmp_path: Path, workers: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[comments]\nedit_window = "soon"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "palabre", "serve", "--workers", workers, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "comments.edit_window" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_with_an_unreachable_database_says_what_to_check(
    tmp_path: Path, workers: str
) -> None:
    nobody_listens = f"postgresql://palabre@127.0.0.1:{free_port()}/palabre"
    result = subprocess.run(
        [sys.executable, "-m", "palabre", "serve", "--workers", workers],
        env=_serve_env(tmp_path, PALABRE_DATABASE_URL=nobody_listens),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "cannot open the database" in result.stderr
    assert "check PALABRE_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
