"""The README's first command, end to end: `palabre serve` in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


def test_serve_starts_on_sqlite_shows_the_demo_and_keeps_a_comment(tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {"PALABRE_DATA_DIR": str(tmp_path / "data")}
    env = {k: v for k, v in env.items() if k not in ("PALABRE_DATABASE_URL", "PALABRE_CONFIG")}
    process = subprocess.Popen(
        [sys.executable, "-m", "palabre", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "palabre serve did not answer within 60 s"
            time.sleep(0.2)
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


def test_serve_with_a_bad_config_says_what_to_fix(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[comments]\nedit_window = "soon"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "palabre", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "comments.edit_window" in result.stderr
    assert "Traceback" not in result.stderr
