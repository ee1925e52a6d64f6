"""Reads and writes at 5,000 comments and at 1,000,000, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.scale                       # both databases, 1M comments
    .venv/bin/python -m bench.scale --db sqlite --big 50000 --duration 3 --no-write   # smoke

For each database: bulk-seed 5,000 comments over 250 threads, measure, bulk-seed up to
1,000,000 comments over 50,000 threads (the same 250 threads stay and more are added),
measure again, and EXPLAIN every query the read and write paths run. Two measurements:

- the store, in-process and uncached: what a thread read costs on a cache miss
  (thread lookup + first page of 50 top-level comments with their reply trees + count), counts
  for 10 pages, and one new comment (the single-transaction insert);
- the whole server over HTTP (``palabre serve --workers 2``, wrk, 16 connections): thread
  read, counts for 10 pages, new comments with the spam filter on.

The query plans are taken from the statements the store really sends (captured with a
SQLAlchemy cursor hook while it serves one request of each kind), not re-typed by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench import seed_data
from bench.loadgen import Request, run_load
from bench.results_md import machine_note, update_section
from bench.servers import BENCH_HOME, ROOT, SITE_ORIGIN, PalabreServer, palabre_seed

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "palabre_bench_scale"
LIMIT = 1.5
ORIGIN = (("Origin", SITE_ORIGIN),)


@dataclass
class Timing:
    p50_ms: float
    p99_ms: float
    n: int
    rps: float | None = None
    errors: int = 0


@dataclass
class Phase:
    comments: int
    threads: int
    store: dict[str, Timing] = field(default_factory=dict)
    http: dict[str, Timing] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


ROUNDS = 3


def timed(fn: Callable[[int], Any], n: int) -> Timing:
    """p50 and p99 of ``n`` calls, three times over; the median round is kept, so a burst
    from another process on the machine moves one round, not the figure."""
    for i in range(min(50, n)):  # warm the connection pool and the page cache
        fn(i)
    rounds = []
    for r in range(ROUNDS):
        samples = []
        for i in range(n):
            started = time.perf_counter()
            fn(i + r * n)
            samples.append((time.perf_counter() - started) * 1000)
        rounds.append((percentile(samples, 0.5), percentile(samples, 0.99)))
    return Timing(
        statistics.median(p50 for p50, _ in rounds), statistics.median(p99 for _, p99 in rounds), n
    )


class Database:
    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.workdir = workdir
        self.data_dir = workdir / kind

    @property
    def url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{(self.data_dir / 'palabre.db').resolve()}"
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"

    def create(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.kind == "postgresql":
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
                conn.exec_driver_sql(f'CREATE DATABASE "{PG_DB}"')
            admin.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.data_dir / "palabre.db") + suffix).unlink(missing_ok=True)

    def drop(self) -> None:
        if self.kind == "postgresql":
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            admin.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.data_dir / "palabre.db") + suffix).unlink(missing_ok=True)

    def size(self) -> str:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                if self.kind == "postgresql":
                    size = conn.exec_driver_sql(
                        "SELECT pg_size_pretty(pg_database_size(current_database()))"
                    ).scalar()
                    return str(size)
        finally:
            engine.dispose()
        total = sum(p.stat().st_size for p in self.data_dir.glob("palabre.db*"))
        return f"{total / 2**20:,.0f} MB"


# -- measurements --------------------------------------------------------------------------


def store_timings(url: str, uris: list[str], n: int) -> dict[str, Timing]:
    from palabre.store import NewComment, Store

    store = Store(url)
    rng = random.Random(3)
    site_id = store.comments.ensure_site("bench")
    picks = [rng.choice(uris) for _ in range(ROUNDS * n + 50)]
    pages = [rng.sample(uris, 10) for _ in range(ROUNDS * n + 50)]

    def read(i: int) -> None:
        row = store.comments.find_thread(site_id, picks[i])
        assert row is not None
        store.comments.thread_page(row, "oldest", 50, None)
        store.comments.counts(site_id, [picks[i]])

    def counts(i: int) -> None:
        store.comments.counts(site_id, pages[i])

    def write(i: int) -> None:
        new = NewComment(
            author="Bench Writer",
            text="A new comment.",
            html="<p>A new comment.</p>",
            status="approved",
            email="writer@example.org",
            ip="127.0.0.9",
        )
        # Into threads of their own, so the measured threads stay the same size.
        store.comments.create_comment(site_id, f"/scale/w/{i % 50}/", "", new)

    try:
        return {
            "thread read (cache miss)": timed(read, n),
            "counts, 10 pages": timed(counts, n),
            "new comment (store insert)": timed(write, max(100, n // 4)),
        }
    finally:
        store.close()


def http_timings(server: PalabreServer, uris: list[str], duration: float) -> dict[str, Timing]:
    rng = random.Random(5)
    read = [
        Request("GET", f"/api/comments?uri={quote(u, safe='')}&sort=oldest", headers=ORIGIN)
        for u in uris
    ]
    counts = [
        Request(
            "GET",
            "/api/counts?" + "&".join("uri=" + quote(u, safe="") for u in rng.sample(uris, 10)),
            headers=ORIGIN,
        )
        for _ in range(50)
    ]
    token = server.form_token(uris[0])
    bodies = []
    for i in range(300):
        name, email, website = seed_data.author(rng)
        payload = {
            "uri": f"/scale/w/{i % 50}/",
            "author": name,
            "email": email,
            "website": website,
            "text": seed_data.comment_text(rng),
            "form_token": token,
        }
        bodies.append(Request("POST", "/api/comments", json.dumps(payload).encode(), ORIGIN))
    out = {}
    base = f"http://127.0.0.1:{server.port}"
    for name, requests in (
        ("thread read", read),
        ("counts, 10 pages", counts),
        ("new comment (spam filter on)", bodies),
    ):
        run_load(base, requests, duration=min(2.0, duration))
        runs = [
            run_load(base, requests, duration=duration / ROUNDS, server_pid=server.pid)
            for _ in range(ROUNDS)
        ]
        runs.sort(key=lambda run: run.rps)
        r = runs[len(runs) // 2]  # the median round by throughput
        out[name] = Timing(
            r.p50_ms, r.p99_ms, sum(x.requests for x in runs), r.rps, sum(x.errors for x in runs)
        )
        print(
            f"    http {name:30s} {r.rps:8.0f} req/s p50 {r.p50_ms:7.2f} ms "
            f"p99 {r.p99_ms:7.2f} ms errors {r.errors}",
            flush=True,
        )
    return out


# -- query plans ---------------------------------------------------------------------------


def capture_statements(url: str, uri: str) -> list[tuple[str, str, Any]]:
    """Every SELECT the store sends for one thread read, one counts call and one post."""
    from palabre.store import NewComment, Store

    store = Store(url)
    seen: list[tuple[str, str, Any]] = []
    label = ["?"]

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def _hook(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT")):
            seen.append((label[0], statement, parameters))

    site_id = store.comments.ensure_site("bench")
    seen.clear()
    label[0] = "thread read"
    row = store.comments.find_thread(site_id, uri)
    assert row is not None
    store.comments.thread_page(row, "oldest", 50, None)
    store.comments.counts(site_id, [uri])
    label[0] = "counts"
    # counts() runs on the driver's connection, past SQLAlchemy's hooks: its SQL is added here.
    from palabre.store.comments import _COUNTS_SQL

    pages = [uri, uri.replace("000", "001"), "/nowhere/"]
    mark = "?" if store.engine.dialect.paramstyle == "qmark" else "%s"
    sql = _COUNTS_SQL.format(site=mark, uris=", ".join([mark] * len(pages)))
    seen.append(("counts", sql, (site_id, *pages)))
    label[0] = "post"
    store.comments.create_comment(
        site_id,
        uri,
        "",
        NewComment(author="Plan", text="plan", html="<p>plan</p>", status="approved"),
    )
    label[0] = "rate limit / trust"
    from datetime import UTC, datetime, timedelta

    store.comments.recent_comments_from_ip("127.0.0.9", datetime.now(UTC) - timedelta(minutes=1))
    store.comments.email_has_approved_comment(site_id, "writer@example.org")
    store.close()
    return seen


def explain(url: str, kind: str, statements: list[tuple[str, str, Any]]) -> tuple[list[str], bool]:
    """Key plan lines per statement, and whether any of them reads a table whole."""
    engine = sa.create_engine(url)
    lines: list[str] = []
    full_scan = False
    with engine.connect() as conn:
        for label, statement, params in statements:
            sql = " ".join(statement.split())
            prefix = "EXPLAIN QUERY PLAN " if kind == "sqlite" else "EXPLAIN "
            try:
                rows = conn.exec_driver_sql(prefix + statement, params).fetchall()
            except Exception as exc:  # a statement that EXPLAIN cannot take
                lines.append(f"[{label}] {sql[:90]}…\n      (no plan: {exc.__class__.__name__})")
                conn.rollback()
                continue
            plan = [str(r[-1]) if kind == "sqlite" else str(r[0]) for r in rows]
            keep = [
                p.strip() for p in plan if re.search(r"SCAN|SEARCH|Scan|Index|Seek|B-TREE|Sort", p)
            ]
            if kind == "sqlite":
                bad = [
                    p for p in keep if re.match(r"SCAN (comment|thread)\b", p) and "USING" not in p
                ]
            else:
                bad = [p for p in keep if re.search(r"Seq Scan on (comment|thread)\b", p)]
            full_scan |= bool(bad)
            short = sql if len(sql) < 160 else sql[:157] + "…"
            lines.append(f"[{label}] {short}")
            lines.extend(f"      {p}" for p in keep or plan[:3])
        conn.rollback()
    engine.dispose()
    return lines, full_scan


# -- the run -------------------------------------------------------------------------------


def run_database(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    db = Database(kind, workdir)
    print(f"\n== {kind} ==", flush=True)
    db.create()
    small_threads = max(1, args.small // 20)
    first = list(seed_data.scale_threads(small_threads, args.small, seed=11, prefix="/scale/a/"))
    uris = [t.uri for t in first]
    res = palabre_seed(db.data_dir, first, args.small, db.url, label=f"{kind}: first {args.small}")
    print(f"  seeded {res.comments:,} comments / {res.threads:,} threads in {res.seconds:.1f} s")
    phases = []
    for target in (args.small, args.big):
        if target != args.small:
            more_threads = max(1, args.big_threads - small_threads)
            more = args.big - args.small
            stream = seed_data.scale_threads(more_threads, more, seed=12, prefix="/scale/b/")
            res = palabre_seed(db.data_dir, stream, more, db.url, label=f"{kind}: up to {target:,}")
            print(
                f"  seeded {res.comments:,} more comments / {res.threads:,} threads in "
                f"{res.seconds:.1f} s ({res.rate:,.0f} comments/s)",
                flush=True,
            )
        phase = Phase(target, small_threads if target == args.small else args.big_threads)
        print(f"  at {target:,} comments ({db.size()}):", flush=True)
        phase.store = store_timings(db.url, uris, args.samples)
        for name, t in phase.store.items():
            print(f"    store {name:30s} p50 {t.p50_ms:7.3f} ms p99 {t.p99_ms:7.3f} ms", flush=True)
        if args.duration:
            url = db.url if kind == "postgresql" else None
            with PalabreServer(
                db.data_dir, workers=args.workers, database_url=url
            ).start() as server:
                phase.http = http_timings(server, uris, args.duration)
        phases.append(phase)
    statements = capture_statements(db.url, uris[0])
    plan_lines, full_scan = explain(db.url, kind, statements)
    print("  query plans:")
    for line in plan_lines:
        print("    " + line)
    size = db.size()
    if not args.keep:
        db.drop()
    return {
        "kind": kind,
        "phases": phases,
        "plans": plan_lines,
        "full_scan": full_scan,
        "size": size,
        "seed_rate": res.rate,
    }


def compare_rows(result: dict[str, Any]) -> tuple[list[str], list[str]]:
    small, big = result["phases"]
    rows, misses = [], []
    for layer in ("store", "http"):
        for name, a in getattr(small, layer).items():
            b = getattr(big, layer)[name]
            r50 = b.p50_ms / a.p50_ms if a.p50_ms else float("inf")
            r99 = b.p99_ms / a.p99_ms if a.p99_ms else float("inf")
            ok = r50 <= LIMIT and r99 <= LIMIT
            if not ok:
                misses.append(f"{result['kind']} {layer} {name}: p50 ×{r50:.2f}, p99 ×{r99:.2f}")
            rps = ""
            if a.rps is not None and b.rps is not None:
                rps = f"{a.rps:,.0f} → {b.rps:,.0f}"
            rows.append(
                f"| {result['kind']} | {'server, HTTP' if layer == 'http' else 'store, uncached'} "
                f"| {name} | {a.p50_ms:.2f} / {a.p99_ms:.2f} | {b.p50_ms:.2f} / {b.p99_ms:.2f} "
                f"| ×{r50:.2f} / ×{r99:.2f} | {rps} | {'met' if ok else '**missed**'} |"
            )
    return rows, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--big-threads", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=2000, help="store calls per measure")
    parser.add_argument("--duration", type=float, default=10.0, help="wrk seconds; 0 skips HTTP")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--idle-note", default="")
    args = parser.parse_args(argv)
    workdir = BENCH_HOME / f"scale-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.perf_counter()
    results = [run_database(kind, args, workdir) for kind in args.db]
    elapsed = time.perf_counter() - started

    rows, misses = [], []
    for result in results:
        r, m = compare_rows(result)
        rows += r
        misses += m
    header = [
        f"| database | layer | operation | at {args.small:,}: p50 / p99 ms "
        f"| at {args.big:,}: p50 / p99 ms | growth p50 / p99 | req/s | ≤ {LIMIT}× |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    table = "\n".join(header + rows)
    print("\n" + table)
    scans = [r["kind"] for r in results if r["full_scan"]]
    print("full table scans in the plans: " + (", ".join(scans) if scans else "none"))
    for miss in misses:
        print("  missed: " + miss)

    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "scale.json").write_text(
        json.dumps(
            [
                {
                    **r,
                    "phases": [
                        p.__dict__
                        | {
                            "store": {k: v.__dict__ for k, v in p.store.items()},
                            "http": {k: v.__dict__ for k, v in p.http.items()},
                        }
                        for p in r["phases"]
                    ],
                }
                for r in results
            ],
            indent=2,
            default=str,
        )
    )
    if not args.no_write:
        given = sys.argv[1:] if argv is None else argv
        command = (".venv/bin/python -m bench.scale " + shlex.join(given)).strip()
        parts = [
            f"Command (from the project root): `{command}` ({elapsed / 60:.1f} min in all).",
            "",
            machine_note() + (f" {args.idle_note}" if args.idle_note else ""),
            "",
            f"Each database is seeded with {args.small:,} comments over {max(1, args.small // 20)} "
            f"threads, measured, then bulk-seeded up to {args.big:,} comments over "
            f"{args.big_threads:,} threads (`palabre/store/bulk.py`: COPY on PostgreSQL, "
            "batched executemany on SQLite, 20,000 rows per transaction) and measured again on "
            "the same threads. *Store, uncached*: in-process calls, "
            f"3 rounds of {args.samples}, the median round's p50 and p99, no cache (a thread "
            "read here is what a cache miss costs: thread lookup, first page of 50 top-level "
            "comments with their reply trees, and the count). *Server, HTTP*: `palabre serve "
            f"--workers {args.workers}`, wrk with 16 connections, 3 rounds of "
            f"{args.duration / 3:g} s, the median round by throughput; thread reads rotate "
            f"over the {max(1, args.small // 20)} threads and are served from the per-process "
            "cache that the thread's version keys; new comments go to threads of their own "
            "so the measured threads keep their size.",
            "",
            table,
            "",
        ]
        for result in results:
            parts.append(
                f"- {result['kind']}: {result['size']} at {args.big:,} comments; bulk "
                f"seeding ran at {result['seed_rate']:,.0f} comments/s."
            )
        parts.append(
            "- Full table scans in any plan: "
            + (", ".join(scans) if scans else "none")
            + ". "
            + (
                "Missed: " + "; ".join(misses)
                if misses
                else "Every operation stayed within 1.5× (p50 and p99)."
            )
        )
        for result in results:
            parts += [
                "",
                f"Query plans on {result['kind']} at {args.big:,} comments "
                "(EXPLAIN of the statements the store sent):",
                "",
                "```",
            ]
            parts += result["plans"]
            parts.append("```")
        update_section("At scale", "\n".join(parts))
        print(f"wrote the 'At scale' section of {ROOT / 'bench' / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
