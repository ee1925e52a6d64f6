"""Start, seed and stop the servers under test: Palabre (``palabre serve``) and Isso.

Isso is installed into a throwaway virtualenv outside the project and run as its own
Dockerfile runs it (gunicorn, 4 sync workers, --preload). Palabre is seeded through its bulk
loader (the database path); Isso through its HTTP API (it has no bulk path), with the same
seed data.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BENCH_HOME = Path(os.environ.get("PALABRE_BENCH_HOME", "/tmp/palabre-bench"))
ISSO_VERSION = "0.14.0"
SITE_ORIGIN = "http://blog.bench"
SITE_JSON = json.dumps([{"name": "bench", "origins": [SITE_ORIGIN]}])
# A copy of the code to run instead of this checkout (debugging with another spam model).
CODE = Path(os.environ.get("PALABRE_BENCH_CODE", ROOT))
if CODE != ROOT:
    sys.path.insert(0, str(CODE))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(
    port: int, path: str, timeout: float = 60.0, proc: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            status, _ = http_call(port, "GET", path, timeout=5)
            if status < 500:
                return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not answer {path} in {timeout:g}s: {last}")


def http_call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None
        hdrs = {"Origin": SITE_ORIGIN} | (headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw
    finally:
        conn.close()


class Server:
    """A server process in its own session, so its whole tree stops together."""

    name = "server"
    proc: subprocess.Popen | None = None
    port = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _spawn(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            command,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=log.parent,
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self._log.close()

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- Isso ----------------------------------------------------------------------------------


def isso_venv() -> Path:
    """Isso and gunicorn in a virtualenv outside the project; reused when already there."""
    venv = BENCH_HOME / "isso-venv"
    python = venv / "bin" / "python"
    probe = [
        str(python),
        "-c",
        f"import isso, gunicorn; assert isso.__version__ == '{ISSO_VERSION}'",
    ]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return venv
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    print(f"installing isso=={ISSO_VERSION} and gunicorn into {venv}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", f"isso=={ISSO_VERSION}", "gunicorn"],
        check=True,
    )
    return venv


ISSO_CONFIG = """\
[general]
dbpath = {db}
host = {origin}
log-file = {log}

[moderation]
enabled = false

[guard]
# Isso's rate limit is off, as Palabre's is, so both take every posted comment.
enabled = false

[server]
listen = http://127.0.0.1:{port}/

[admin]
enabled = false
"""


class IssoServer(Server):
    name = "isso"

    def __init__(self, workdir: Path, workers: int = 4) -> None:
        self.workdir = workdir
        self.workers = workers

    def start(self) -> IssoServer:
        venv = isso_venv()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = self.workdir / "isso.cfg"
        config.write_text(
            ISSO_CONFIG.format(
                db=self.workdir / "comments.db",
                origin=SITE_ORIGIN,
                log=self.workdir / "isso-app.log",
                port=self.port,
            )
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
        env["ISSO_SETTINGS"] = str(config)
        # As Isso's Dockerfile: gunicorn -w 4 --preload isso.run --worker-tmp-dir /dev/shm
        command = [
            str(venv / "bin" / "gunicorn"),
            "-b",
            f"127.0.0.1:{self.port}",
            "-w",
            str(self.workers),
            "--preload",
            "isso.run",
            "--worker-tmp-dir",
            "/dev/shm",
            "--control-socket",
            str(self.workdir / "gunicorn.ctl"),
        ]
        if not _gunicorn_has_control_socket(venv):
            command = command[:-2]
        self._spawn(command, env, self.workdir / "isso.log")
        wait_http(self.port, "/info", proc=self.proc)
        return self

    def seed(self, threads: Iterable[Any]) -> int:
        """Through Isso's API, one comment at a time (Isso has no bulk path)."""
        posted = 0
        for item in threads:
            ids: list[int] = []
            path = "/new?uri=" + quote(item.uri, safe="")
            for c in item.comments:
                body = {
                    "text": c.text,
                    "author": c.author,
                    "email": c.email,
                    "website": c.website,
                    "title": item.title,
                    "parent": ids[c.parent] if c.parent is not None else None,
                }
                status, data = http_call(self.port, "POST", path, body)
                if status != 201:
                    raise RuntimeError(f"isso refused a seed comment ({status}): {data!r}")
                ids.append(data["id"])
                posted += 1
        return posted


def _gunicorn_has_control_socket(venv: Path) -> bool:
    out = subprocess.run(
        [str(venv / "bin" / "gunicorn"), "--help"], capture_output=True, text=True, check=False
    ).stdout
    return "--control-socket" in out


# -- Palabre -------------------------------------------------------------------------------


def palabre_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PALABRE_DATA_DIR": str(data_dir),
            "PALABRE_SITES": SITE_JSON,
            "PALABRE_COMMENTS__RATE_LIMIT_PER_MINUTE": "0",
            "PALABRE_SPAM__ENABLED": "true",
        }
    )
    if database_url:
        env["PALABRE_DATABASE_URL"] = database_url
    else:
        env.pop("PALABRE_DATABASE_URL", None)
    return env


def palabre_seed(
    data_dir: Path,
    threads: Iterable[Any],
    total: int | None,
    database_url: str | None = None,
    progress: bool = True,
    label: str = "seeding Palabre",
) -> Any:
    """The bulk path: straight into the database, HTML rendered once per distinct text."""
    from palabre.config import load_or_create_secrets
    from palabre.store import Store
    from palabre.store.bulk import BulkLoader
    from palabre.tokens import Tokens

    data_dir.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{(data_dir / 'palabre.db').resolve()}"
    secrets = load_or_create_secrets(data_dir)
    tokens = Tokens(secrets.signing_key, secrets.avatar_salt)
    store = Store(url)
    try:
        store.migrate()
        site_id = store.comments.ensure_site("bench")
        loader = BulkLoader(
            store.engine,
            site_id,
            progress=progress,
            label=label,
            avatar=lambda email, author: tokens.avatar_hash(email, author, None),
        )
        return loader.load(threads, total)
    finally:
        store.close()


class PalabreServer(Server):
    name = "palabre"

    def __init__(
        self,
        data_dir: Path,
        workers: int = 2,
        database_url: str | None = None,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.database_url = database_url
        self.port = port or 0
        self.extra_env = extra_env or {}

    def start(self) -> PalabreServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        env = palabre_env(self.data_dir, self.database_url) | self.extra_env
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE), env.get("PYTHONPATH")]))
        command = [
            sys.executable,
            "-m",
            "palabre",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        self._spawn(command, env, self.data_dir / f"palabre-{self.port}.log")
        wait_http(self.port, "/api/counts?uri=/", proc=self.proc)
        return self

    def form_token(self, uri: str) -> str:
        status, data = http_call(self.port, "GET", "/api/comments?uri=" + quote(uri, safe=""))
        if status != 200:
            raise RuntimeError(f"palabre GET /api/comments answered {status}: {data!r}")
        return str(data["config"]["form_token"])
