"""``palabre keys`` through click, against the live server's database."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from palabre.cli import main
from tests.akismet.conftest import BLOG
from tests.conftest import LiveServer


def _config(server: LiveServer, tmp_path: Path) -> Path:
    path = tmp_path / "palabre.toml"
    settings = server.settings
    path.write_text(f'database_url = "{settings.database_url}"\ndata_dir = "{tmp_path}"\n')
    return path


def test_keys_create_list_revoke(server: LiveServer, tmp_path: Path):
    config = str(_config(server, tmp_path))
    runner = CliRunner()
    for args in (["keys"], ["keys", "create"], ["keys", "list"], ["keys", "revoke"]):
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0 and "--help" in result.output, result.output

    created = runner.invoke(main, ["keys", "create", "--site", BLOG, "--config", config])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert len(key) == 12 and key.isalnum() and key == key.lower()
    assert "only a hash" in created.stderr.lower()

    verify = {"key": key, "blog": BLOG}
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/1.1/verify-key", data=verify).text == "valid"
        listed = runner.invoke(main, ["keys", "list", "--config", config])
        assert listed.exit_code == 0 and f"{key[:4]}…" in listed.output
        assert key not in listed.output  # only the hint is ever shown again

        revoked = runner.invoke(main, ["keys", "revoke", key, "--config", config])
        assert revoked.exit_code == 0, revoked.output
        # A running server caches keys for a second: the revocation lands within that.
        deadline = time.monotonic() + 3
        while http.post("/1.1/verify-key", data=verify).text != "invalid":
            assert time.monotonic() < deadline, "revoked key still accepted after 3 s"
            time.sleep(0.1)
        listed = runner.invoke(main, ["keys", "list", "--config", config])
        assert "revoked" in listed.output


def test_keys_errors_are_clear(server: LiveServer, tmp_path: Path):
    config = str(_config(server, tmp_path))
    runner = CliRunner()
    bad_site = runner.invoke(main, ["keys", "create", "--site", "blog", "--config", config])
    assert bad_site.exit_code == 2 and "full front-page URL" in bad_site.output
    missing = runner.invoke(main, ["keys", "create", "--config", config])
    assert missing.exit_code == 2 and "--site" in missing.output
    unknown = runner.invoke(main, ["keys", "revoke", "abcdefghijkl", "--config", config])
    assert unknown.exit_code == 1 and "no such key" in unknown.output
    malformed = runner.invoke(main, ["keys", "revoke", "nope", "--config", config])
    assert malformed.exit_code == 1 and "12 characters" in malformed.output
    no_file = runner.invoke(main, ["keys", "list", "--config", str(tmp_path / "none.toml")])
    assert no_file.exit_code == 1 and "does not exist" in no_file.output
