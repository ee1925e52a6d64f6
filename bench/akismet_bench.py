"""Benchmark: Akismet comment-check over HTTP, N concurrent keep-alive clients, bounded time.

Starts a real ``palabre serve`` (SQLite in a temporary directory unless --database-url is
given), makes a key with ``palabre keys create``, then drives ``/1.1/comment-check`` from
``--concurrency`` clients in one asyncio loop for ``--duration`` seconds, loopback only.
Prints requests/s, p50, p90, p99 and max latency (target: p99 <= 20 ms at 16 clients).

The load generator writes raw HTTP/1.1 on keep-alive sockets so that, on a 2-core
machine, it takes as little CPU as possible away from the server it measures.

    .venv/bin/python bench/akismet_bench.py --duration 20 --concurrency 16 --workers 1 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BLOG = "https://bench.example.com/"

HAM_TEXTS = [
    "Thanks for the write-up, the section on the council budget was really clear.",
    "I tried this recipe last weekend and the bread came out great, thank you!",
    "Could you say more about how the migration handled the old data? Curious.",
    "Interesting point about bike lanes; our town did the same and it worked.",
    "I disagree with the conclusion, but the sources are solid. Good read.",
    "Typo in the second paragraph: 'their' should be 'there'. Otherwise great.",
]
SPAM_TEXTS = [
    "Buy cheap viagra online now!!! http://pills.example/buy best price",
    "Earn $5000 a week from home, click here http://money.example/join now",
    "Hot singles in your area http://dating.example/ click http://dating.example/x",
    "Best SEO backlinks service, rank #1 on Google fast: http://seo.example/",
]
NAMES = ["Ada", "Grace", "Linus", "Margaret", "Tim", "Barbara", "Ken", "Radia"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def palabre(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "palabre", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )


def request_bodies(key: str, n: int = 256) -> list[bytes]:
    rng = random.Random(7)
    bodies = []
    for i in range(n):
        spam = rng.random() < 0.3
        text = rng.choice(SPAM_TEXTS if spam else HAM_TEXTS) + f" #{i}"
        form = {
            "api_key": key,
            "blog": BLOG,
            "user_ip": f"198.51.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            "referrer": "https://www.example.org/",
            "permalink": f"{BLOG}posts/{rng.randrange(100)}",
            "comment_type": "comment",
            "comment_author": rng.choice(NAMES),
            "comment_author_email": f"{rng.choice(NAMES).lower()}{i}@example.org",
            "comment_content": text,
            "blog_lang": "en",
        }
        bodies.append(urlencode(form).encode())
    return bodies


def http_request(port: int, body: bytes) -> bytes:
    head = (
        f"POST /1.1/comment-check HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nUser-Agent: akismet-bench\r\n\r\n"
    )
    return head.encode() + body


async def one_client(
    port: int,
    requests: list[bytes],
    stop_at: float,
    latencies: list[float],
    answers: dict[bytes, int],
    start_at: float,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = random.randrange(len(requests))
    try:
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                return
            writer.write(requests[i % len(requests)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            done = time.perf_counter()
            status = head[9:12]
            key = body if status == b"200" else b"HTTP " + status
            answers[key] = answers.get(key, 0) + 1
            if now >= start_at:  # warm-up requests are not measured
                latencies.append(done - now)
    finally:
        writer.close()


async def drive(
    port: int, requests: list[bytes], concurrency: int, duration: float, warmup: float
) -> tuple[list[float], dict[bytes, int], float]:
    latencies: list[float] = []
    answers: dict[bytes, int] = {}
    begin = time.perf_counter()
    start_at = begin + warmup
    stop_at = start_at + duration
    await asyncio.gather(
        *(
            one_client(port, requests, stop_at, latencies, answers, start_at)
            for _ in range(concurrency)
        )
    )
    return latencies, answers, time.perf_counter() - start_at


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"palabre serve exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("palabre serve did not start in time")


def use_wrk(tool: str) -> bool:
    return tool == "wrk" or (tool == "auto" and shutil.which("wrk") is not None)


def wrk_run(args: argparse.Namespace, workers: int, port: int, pid: int,
            bodies: list[bytes]) -> list[str]:  # fmt: skip
    """The same load through wrk (C, two threads): less of the CPU goes to the generator."""
    sys.path.insert(0, str(ROOT))
    from bench.loadgen import Request, run_load

    form = (("Content-Type", "application/x-www-form-urlencoded"),)
    requests = [Request("POST", "/1.1/comment-check", body, form) for body in bodies]
    base = f"http://127.0.0.1:{port}"
    run_load(base, requests, connections=args.concurrency, duration=args.warmup,
             server_pid=pid, tool="wrk")  # fmt: skip
    result = run_load(base, requests, connections=args.concurrency, duration=args.duration,
                      server_pid=pid, tool="wrk")  # fmt: skip
    where = "PostgreSQL" if args.database_url else "SQLite"
    verdict = "meets" if result.p99_ms <= 20 else "MISSES"
    errors = f", errors {result.error_detail}" if result.errors else ""
    return [
        f"comment-check, {args.concurrency} connections (wrk), {args.duration:.0f} s, "
        f"{workers} worker(s), {where}",
        f"  requests:  {result.requests}  ({result.rps:.0f} req/s){errors}",
        f"  latency:   p50 {result.p50_ms:.2f} ms   p99 {result.p99_ms:.2f} ms",
        f"  target p99 <= 20 ms: {verdict}",
    ]


def run_once(args: argparse.Namespace, workers: int) -> list[str]:
    """One server, one measured run; returns the report lines."""
    with tempfile.TemporaryDirectory(prefix="palabre-akismet-bench-") as tmp:
        env = dict(os.environ, PALABRE_DATA_DIR=tmp, PYTHONPATH=str(ROOT))
        env.pop("PALABRE_CONFIG", None)
        if args.database_url:
            env["PALABRE_DATABASE_URL"] = args.database_url
        else:
            env.pop("PALABRE_DATABASE_URL", None)
        key = palabre("keys", "create", "--site", BLOG, env=env).stdout.strip()
        port = free_port()
        command = [sys.executable, "-m", "palabre", "serve", "--port", str(port),
                   "--workers", str(workers)]  # fmt: skip
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        try:
            wait_ready(port, server)
            bodies = request_bodies(key)
            if use_wrk(args.tool):
                return wrk_run(args, workers, port, server.pid, bodies)
            requests = [http_request(port, body) for body in bodies]
            latencies, answers, elapsed = asyncio.run(
                drive(port, requests, args.concurrency, args.duration, args.warmup)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)

    latencies.sort()
    ms = [v * 1000 for v in latencies]
    where = "PostgreSQL" if args.database_url else "SQLite"
    verdict = "meets" if percentile(ms, 99) <= 20 else "MISSES"
    return [
        f"comment-check, {args.concurrency} clients, {args.duration:.0f} s, "
        f"{workers} worker(s), {where}",
        f"  requests:  {len(ms)}  ({len(ms) / elapsed:.0f} req/s)",
        f"  latency:   p50 {percentile(ms, 50):.2f} ms   p90 {percentile(ms, 90):.2f} ms   "
        f"p99 {percentile(ms, 99):.2f} ms   max {ms[-1]:.2f} ms   "
        f"mean {statistics.fmean(ms):.2f} ms",
        "  answers:   " + ", ".join(f"{k.decode()}={v}" for k, v in sorted(answers.items())),
        f"  target p99 <= 20 ms: {verdict}",
    ]


NOTES = """\
How the hot path got here (same script, same machine, 1 worker, SQLite; the machine was
shared with other jobs, load average 5 to 7 on 2 cores, so tails are inflated):

- check log and usage counters written inline, handlers in the thread pool: 684 req/s,
  p99 335 ms (16 threads queueing on SQLite's write lock and its busy-wait backoff);
- log written behind in batches every 50 ms: 801 req/s, p99 53 ms;
- comment-check on the event loop (SQLite reads never wait in WAL mode), key lookups
  cached for 1 s: 1,421 req/s with a stub filter; with the shipped filter 1,000-1,250;
- the writer thread's row-by-row executemany took the GIL from the loop twice per row:
  p99 65 ms with the log against 19 ms without it; one multi-row INSERT per batch
  (raw driver SQL, orjson) brought it to 24-31 ms;
- this round (2026-11-25, on a different and slower host than the runs above: Intel Xeon
  in place of AMD EPYC, where a 10-million-step Python loop takes 0.9-1.2 s): the spam
  log's high-water mark read on the driver connection (135 -> 26 us), the feature
  patterns sped up (extract -30 %), routes matched hot paths first (95 -> 18 us). Same
  script, the previous commit (ffdd744) and this one taking turns on this host, 10 s each:
  1 worker 666 -> 908 req/s; 2 workers 1,051-1,357 -> 1,473-1,598 req/s, p99 23-30 ->
  21-22 ms.

Where a check's server time went before the last two changes (cProfile of the ASGI app
in-process): the filter ~45 % (feature extraction most of it), FastAPI and Starlette ~35 %
(route matching alone ~18 %, middleware, the endpoint wrapper), the Akismet layer ~8 %. On this
host one worker is CPU-bound at ~900 checks/s, so 16 clients queue: p50 ~17 ms, p99 ~36 ms;
two workers give p99 21-22 ms, just over the 20 ms target."""


def write_results(lines: list[str], tool: str) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.results_md import machine_note, update_section

    generator = (
        "wrk (C, 2 threads) with a Lua script cycling through the bodies"
        if tool == "wrk"
        else "keep-alive clients in one asyncio loop writing raw HTTP/1.1"
    )
    command = ".venv/bin/python bench/akismet_bench.py " + " ".join(sys.argv[1:])
    body = "\n".join([
        "`/1.1/comment-check` over HTTP on loopback against a real `palabre serve` "
        "(`bench/akismet_bench.py`): SQLite in a temporary data directory, a key made with "
        f"`palabre keys create`, 16 keep-alive connections from {generator}, 256 distinct "
        "ham/spam comment bodies, after an unmeasured warm-up. Target: p99 <= 20 ms at 16 "
        "concurrent clients.",
        "",
        "```",
        command.strip(),
        "",
        *lines,
        "```",
        "",
        machine_note(),
        "",
        NOTES,
    ])  # fmt: skip
    update_section("Akismet API", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="palabre serve --workers; several values make several runs",
    )
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument(
        "--tool",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk when installed (auto), or the asyncio one",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="leave the 'Akismet API' section of bench/RESULTS.md alone",
    )
    args = parser.parse_args()

    lines: list[str] = []
    for workers in args.workers:
        run = run_once(args, workers)
        print("\n".join(run), flush=True)
        lines.extend(run)
    if not args.no_write:
        write_results(lines, "wrk" if use_wrk(args.tool) else "python")


if __name__ == "__main__":
    main()
