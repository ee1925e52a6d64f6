"""Bounded HTTP load on loopback: wrk when installed, else a small asyncio generator.

``run_load`` drives N keep-alive connections for a fixed time at a list of requests (taken
round-robin, so POST bodies vary), and returns req/s, p50/p99 latency, errors and the peak
memory of the server's process tree, sampled from /proc while the load runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    error_detail: dict[str, int] = field(default_factory=dict)
    peak_rss_mib: float = 0.0
    peak_pss_mib: float = 0.0
    tool: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"rps": self.rps}


# -- memory of a process tree ------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name may contain spaces; fields resume after the last ')'.
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, ()))
    return tree


def tree_memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MiB summed over the tree. PSS splits pages shared after fork()."""
    rss = pss = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            try:
                with open(f"/proc/{member}/statm", encoding="ascii") as handle:
                    rss += int(handle.read().split()[1]) * PAGE // 1024
            except OSError:
                continue
    return rss / 1024, pss / 1024


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process tree so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def settle(pid: int | None, idle: float = 0.05, window: float = 0.5, limit: float = 60.0) -> float:
    """Wait until the server's tree has used less than ``idle`` of a core over ``window``
    seconds (a server still working off requests a finished run left queued)."""
    if pid is None:
        return 0.0
    started = time.monotonic()
    before = tree_cpu_seconds(pid)
    while time.monotonic() - started < limit:
        time.sleep(window)
        now = tree_cpu_seconds(pid)
        if now - before < idle * window:
            break
        before = now
    return time.monotonic() - started


class MemorySampler:
    """Peak RSS/PSS of a process tree, sampled every ``interval`` seconds in a thread."""

    def __init__(self, pid: int | None, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_rss = 0.0
        self.peak_pss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        if self.pid is None:
            return
        rss, pss = tree_memory(self.pid)
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> MemorySampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


# -- wrk ---------------------------------------------------------------------------------


def _lua_string(data: bytes) -> str:
    out = ['"']
    for byte in data:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    out.append('"')
    return "".join(out)


WRK_SCRIPT = """
local specs = {
%(specs)s
}
local reqs = {}
local i = 0
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  for k, s in ipairs(specs) do
    reqs[k] = wrk.format(s[1], s[2], s[3], s[4])
  end
  i = ((tid or 1) * 7919) %% #reqs
end

function request()
  i = i %% #reqs + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,' ..
    '"status":%%d,"timeout":%%d,"p50":%%d,"p99":%%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk_spec(request: Request) -> str:
    headers = dict(request.headers)
    if request.body and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    lua_headers = (
        "{"
        + ", ".join(
            f"[{_lua_string(k.encode())}] = {_lua_string(v.encode())}" for k, v in headers.items()
        )
        + "}"
    )
    body = _lua_string(request.body) if request.body else "nil"
    return (
        f"  {{{_lua_string(request.method.encode())}, {_lua_string(request.path.encode())}, "
        f"{lua_headers}, {body}}},"
    )


def run_wrk(
    base_url: str,
    requests: list[Request],
    connections: int,
    duration: float,
    threads: int = 2,
    timeout: float = 30.0,
) -> LoadResult:
    wrk = shutil.which("wrk")
    assert wrk is not None
    script = WRK_SCRIPT % {"specs": "\n".join(_wrk_spec(r) for r in requests)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        path = handle.name
    try:
        command = [
            wrk,
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            f"--timeout={timeout:g}s",
            "-s",
            path,
            base_url.rstrip("/") + "/",
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + timeout + 30, check=False
        )
    finally:
        Path(path).unlink(missing_ok=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    data = json.loads(line[len("WRKJSON ") :])
    detail = {k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50"] / 1000,
        p99_ms=data["p99"] / 1000,
        errors=sum(detail.values()),
        error_detail=detail,
        tool="wrk",
    )


# -- asyncio fallback --------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, whether the server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, chunked, keep = None, False, not head.startswith(b"HTTP/1.0")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection":
            keep = value.strip().lower() != b"close"
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, keep


def _raw(request: Request, host: str) -> bytes:
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}"]
    headers = dict(request.headers)
    if request.body:
        headers.setdefault("Content-Type", "application/json")
        headers["Content-Length"] = str(len(request.body))
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + request.body


async def _python_load(
    base_url: str, requests: list[Request], connections: int, duration: float, timeout: float
) -> LoadResult:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    raws = [_raw(r, parts.netloc) for r in requests]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + duration

    def fail(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    async def client(offset: int) -> None:
        i = offset
        writer = None
        while time.perf_counter() < deadline:
            if writer is None:
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError:
                    fail("connect")
                    await asyncio.sleep(0.05)
                    continue
            raw = raws[i % len(raws)]
            i += 1
            started = time.perf_counter()
            try:
                writer.write(raw)
                status, keep = await asyncio.wait_for(_read_response(reader), timeout)
            except TimeoutError:
                fail("timeout")
                writer.close()
                writer = None
                continue
            except (OSError, asyncio.IncompleteReadError, ValueError):
                fail("read")
                writer.close()
                writer = None
                continue
            latencies.append(time.perf_counter() - started)
            if status >= 400:
                fail("status")
            if not keep:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n * 7919) for n in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0
        )

    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
        errors=sum(errors.values()),
        error_detail=errors,
        tool="python",
    )


def run_load(
    base_url: str,
    requests: list[Request],
    *,
    connections: int = 16,
    duration: float = 20.0,
    server_pid: int | None = None,
    tool: str = "auto",
    timeout: float = 30.0,
) -> LoadResult:
    """Drive the load; ``tool`` is ``wrk``, ``python`` or ``auto`` (wrk when installed)."""
    use_wrk = tool == "wrk" or (tool == "auto" and shutil.which("wrk"))
    settle(server_pid)
    with MemorySampler(server_pid) as memory:
        if use_wrk:
            result = run_wrk(base_url, requests, connections, duration, timeout=timeout)
        else:
            result = asyncio.run(_python_load(base_url, requests, connections, duration, timeout))
    result.peak_rss_mib = memory.peak_rss
    result.peak_pss_mib = memory.peak_pss
    settle(server_pid)
    return result
