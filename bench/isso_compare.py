"""Palabre side by side with Isso 0.14.0, same machine, same data, same load, one run.

    .venv/bin/python -m bench.isso_compare              # full run (about 5 minutes)
    .venv/bin/python -m bench.isso_compare --duration 3 --threads 20 --no-write   # smoke

Both servers are seeded with identical data (bench/seed_data.py: 200 threads, one hot thread
of 500 comments, 200 top level and 300 replies at depths 1-4, the others 10-30 comments),
then each scenario runs against Isso and against Palabre in turn (interleaved, so background
noise hits both alike): 16 keep-alive connections for 20 s each, after a 2 s warm-up.

Requests are those each engine's own widget sends:
- hot / small thread, on page load: Isso ``GET /?uri=..&sort=oldest&offset=0&nested_limit=5``
  (its embed.js defaults); Palabre ``GET /api/comments?uri=..&sort=oldest`` (the default page
  size, 50 top-level comments with their whole reply trees, then "more" pages by cursor);
- counts for 10 pages: Isso ``POST /count`` with a JSON list; Palabre ``GET /api/counts``;
- new comments: Isso ``POST /new?uri=..``; Palabre ``POST /api/comments`` with the spam
  filter on (rate limits off on both), spread over 50 small threads, 500 distinct bodies.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import seed_data
from bench.loadgen import LoadResult, Request, run_load
from bench.results_md import machine_note, update_section
from bench.servers import (
    BENCH_HOME,
    ISSO_VERSION,
    ROOT,
    SITE_ORIGIN,
    IssoServer,
    PalabreServer,
    http_call,
    palabre_seed,
)

TARGETS = {"hot": 50.0, "small": 20.0, "counts": 4.0, "post": 2.0}
READS = ("hot", "small", "counts")
LABELS = {
    "hot": "hot thread read (500 comments)",
    "small": "small thread read ({n} comments)",
    "counts": "counts for 10 pages",
    "post": "new comment (Palabre: spam filter on)",
}
P99_LIMIT_MS = 50.0
RSS_LIMIT_MIB = 300.0
ORIGIN = (("Origin", SITE_ORIGIN),)


@dataclass
class Plan:
    hot: str
    small: str
    small_size: int
    count_uris: list[str]
    post_targets: list[str]


def make_plan(dataset: list[seed_data.SeedThread]) -> Plan:
    # Never one of the threads new comments go to, so every run reads the same thread.
    small = next((t for t in dataset[10:-50] if len(t.comments) == 22), dataset[10])
    others = [t.uri for t in dataset[1:]]
    return Plan(
        hot=dataset[0].uri,
        small=small.uri,
        small_size=len(small.comments),
        count_uris=[dataset[0].uri, *others[:9]],
        post_targets=others[-50:],
    )


def isso_requests(plan: Plan, scenario: str, bodies: list[dict[str, Any]]) -> list[Request]:
    def read(uri: str) -> Request:
        query = f"uri={quote(uri, safe='')}&sort=oldest&offset=0&nested_limit=5"
        return Request("GET", "/?" + query, headers=ORIGIN)

    if scenario == "hot":
        return [read(plan.hot)]
    if scenario == "small":
        return [read(plan.small)]
    if scenario == "counts":
        return [Request("POST", "/count", json.dumps(plan.count_uris).encode(), ORIGIN)]
    out = []
    for i, body in enumerate(bodies):
        uri = plan.post_targets[i % len(plan.post_targets)]
        fields = {k: body[k] for k in ("text", "author", "email", "website")}
        path = "/new?uri=" + quote(uri, safe="")
        out.append(Request("POST", path, json.dumps(fields).encode(), ORIGIN))
    return out


def palabre_requests(
    plan: Plan, scenario: str, bodies: list[dict[str, Any]], form_token: str
) -> list[Request]:
    def read(uri: str) -> Request:
        return Request(
            "GET", f"/api/comments?uri={quote(uri, safe='')}&sort=oldest", headers=ORIGIN
        )

    if scenario == "hot":
        return [read(plan.hot)]
    if scenario == "small":
        return [read(plan.small)]
    if scenario == "counts":
        query = "&".join("uri=" + quote(u, safe="") for u in plan.count_uris)
        return [Request("GET", "/api/counts?" + query, headers=ORIGIN)]
    out = []
    for i, body in enumerate(bodies):
        fields = {k: body[k] for k in ("text", "author", "email", "website")}
        fields |= {"uri": plan.post_targets[i % len(plan.post_targets)], "form_token": form_token}
        out.append(Request("POST", "/api/comments", json.dumps(fields).encode(), ORIGIN))
    return out


def post_bodies(n: int = 500) -> list[dict[str, Any]]:
    import random

    rng = random.Random(99)
    bodies = []
    for _ in range(n):
        name, email, website = seed_data.author(rng)
        bodies.append(
            {
                "text": seed_data.comment_text(rng),
                "author": name,
                "email": email,
                "website": website,
            }
        )
    return bodies


def sanity(plan: Plan, isso: IssoServer, palabre: PalabreServer) -> list[str]:
    """Both engines hold the same comments before the load starts."""
    notes = []
    _, counts_i = http_call(isso.port, "POST", "/count", plan.count_uris)
    query = "&".join("uri=" + quote(u, safe="") for u in plan.count_uris)
    _, counts_p = http_call(palabre.port, "GET", "/api/counts?" + query)
    counts_p = [counts_p[u] for u in plan.count_uris]
    if counts_i != counts_p:
        raise RuntimeError(f"seeded data differs: Isso counts {counts_i}, Palabre {counts_p}")
    notes.append(f"counts agree on the 10 pages: {counts_p}")
    hot = f"uri={quote(plan.hot, safe='')}"
    _, data_i = http_call(isso.port, "GET", f"/?{hot}&sort=oldest&offset=0&nested_limit=5")
    _, data_p = http_call(palabre.port, "GET", f"/api/comments?{hot}&sort=oldest")

    def size(items: list[dict[str, Any]]) -> int:
        return sum(1 + size(c.get("replies") or []) for c in items)

    body_i = len(json.dumps(data_i))
    body_p = len(json.dumps(data_p))
    notes.append(
        f"hot thread on page load: Isso sends {len(data_i['replies'])} top-level comments, "
        f"{size(data_i['replies'])} in all ({body_i // 1024} KiB); Palabre sends "
        f"{len(data_p['comments'])} top-level with their reply trees, {size(data_p['comments'])} "
        f"in all ({body_p // 1024} KiB), the rest behind its 'more' cursor"
    )
    return notes


def measure(
    scenario: str,
    engine: str,
    port: int,
    pid: int,
    requests: list[Request],
    args: argparse.Namespace,
    *,
    duration: float | None = None,
    warmup: bool = True,
    quiet: bool = False,
) -> LoadResult:
    base = f"http://127.0.0.1:{port}"
    if args.warmup and warmup:
        run_load(
            base,
            requests,
            connections=args.connections,
            duration=args.warmup,
            server_pid=pid,
            tool=args.tool,
        )
    result = run_load(
        base,
        requests,
        connections=args.connections,
        duration=duration or args.duration,
        server_pid=pid,
        tool=args.tool,
    )
    if not quiet:
        report(scenario, engine, result)
    return result


def report(scenario: str, engine: str, result: LoadResult) -> None:
    print(
        f"  {scenario:7s} {engine:8s} {result.rps:9.1f} req/s  p50 {result.p50_ms:8.2f} ms  "
        f"p99 {result.p99_ms:8.2f} ms  errors {result.errors}  "
        f"RSS {result.peak_rss_mib:6.1f} MiB (PSS {result.peak_pss_mib:6.1f})",
        flush=True,
    )


def merged(slices: list[LoadResult]) -> LoadResult:
    """Several slices of one load as one result: totals add up; p50 is the slices' median,
    p99 the worst slice's (conservative); peak memory the highest seen."""
    return LoadResult(
        requests=sum(r.requests for r in slices),
        seconds=sum(r.seconds for r in slices),
        p50_ms=statistics.median(r.p50_ms for r in slices),
        p99_ms=max(r.p99_ms for r in slices),
        errors=sum(r.errors for r in slices),
        peak_rss_mib=max(r.peak_rss_mib for r in slices),
        peak_pss_mib=max(r.peak_pss_mib for r in slices),
        tool=slices[0].tool,
    )


def measure_interleaved(
    scenario: str,
    servers: list[tuple[str, int, int, list[Request]]],
    args: argparse.Namespace,
) -> dict[str, LoadResult]:
    """The engines take turns in ``args.rounds`` slices that add up to ``args.duration``
    each, so a change in the machine's speed during the run (a shared host) weighs on
    both alike instead of on whichever ran in the slower minute."""
    slices: dict[str, list[LoadResult]] = {name: [] for name, *_ in servers}
    for round_number in range(args.rounds):
        for name, port, pid, requests in servers:
            slices[name].append(
                measure(
                    scenario,
                    name,
                    port,
                    pid,
                    requests,
                    args,
                    duration=args.duration / args.rounds,
                    warmup=round_number == 0,
                    quiet=True,
                )
            )
    results = {name: merged(parts) for name, parts in slices.items()}
    for name, result in results.items():
        report(scenario, name, result)
    return results


def table(plan: Plan, results: dict[str, dict[str, LoadResult]], palabre_label: str) -> str:
    lines = [
        f"| Scenario (16 connections, {{d}} s) | Isso req/s | {palabre_label} req/s | Palabre/Isso "
        "| target | Isso p50 / p99 ms | Palabre p50 / p99 ms | errors Isso / Palabre "
        "| peak RSS MiB Isso / Palabre |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for scenario in ("hot", "small", "counts", "post"):
        if scenario not in results:
            continue
        i, p = results[scenario]["isso"], results[scenario]["palabre"]
        ratio = p.rps / i.rps if i.rps else float("inf")
        met = "met" if ratio >= TARGETS[scenario] else "**missed**"
        label = LABELS[scenario].format(n=plan.small_size)
        lines.append(
            f"| {label} | {i.rps:,.1f} | {p.rps:,.1f} | **{ratio:,.1f}×** "
            f"| ≥ {TARGETS[scenario]:g}× {met} | {i.p50_ms:,.1f} / {i.p99_ms:,.1f} "
            f"| {p.p50_ms:,.2f} / {p.p99_ms:,.2f} "
            f"| {i.errors} / {p.errors} | {i.peak_rss_mib:,.0f} / {p.peak_rss_mib:,.0f} |"
        )
    return "\n".join(lines)


def checks(results: dict[str, dict[str, LoadResult]]) -> list[str]:
    out = []
    for scenario, by_engine in results.items():
        p = by_engine["palabre"]
        if scenario in READS:
            ok = p.p99_ms <= P99_LIMIT_MS
            out.append(
                f"{scenario}: Palabre p99 {p.p99_ms:.2f} ms "
                f"{'≤' if ok else '>'} {P99_LIMIT_MS:g} ms: {'met' if ok else 'MISSED'}"
            )
        if p.errors:
            out.append(f"{scenario}: Palabre errors {p.errors} {p.error_detail}: MISSED")
    errors = sum(r["palabre"].errors for r in results.values())
    out.append(f"Palabre errors in all scenarios: {errors}: {'met' if not errors else 'MISSED'}")
    rss = max(r["palabre"].peak_rss_mib for r in results.values())
    pss = max(r["palabre"].peak_pss_mib for r in results.values())
    out.append(
        f"Palabre peak server RSS {rss:.0f} MiB (PSS {pss:.0f} MiB) "
        f"{'≤' if rss <= RSS_LIMIT_MIB else '>'} {RSS_LIMIT_MIB:g} MiB: "
        f"{'met' if rss <= RSS_LIMIT_MIB else 'MISSED'}"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=200, help="threads in the dataset")
    parser.add_argument("--workers", type=int, default=1, help="palabre serve --workers")
    parser.add_argument(
        "--compare-workers",
        type=int,
        nargs="*",
        default=[],
        help="also run Palabre with these worker counts (reported apart)",
    )
    parser.add_argument("--scenarios", nargs="*", default=["hot", "small", "counts", "post"])
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="split each scenario into this many alternating Isso/Palabre slices",
    )
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    parser.add_argument("--idle-note", default="", help="what else ran on the machine")
    args = parser.parse_args(argv)

    run_dir = BENCH_HOME / f"compare-{time.strftime('%Y%m%d-%H%M%S')}"
    dataset = seed_data.compare_dataset(threads=args.threads)
    plan = make_plan(dataset)
    bodies = post_bodies()
    total = seed_data.count(dataset)
    print(f"dataset: {len(dataset)} threads, {total} comments; run dir {run_dir}", flush=True)

    started = time.perf_counter()
    result = palabre_seed(run_dir / "palabre", dataset, total)
    print(f"Palabre seeded through its bulk path in {result.seconds:.1f} s", flush=True)
    with IssoServer(run_dir / "isso").start() as isso:
        t0 = time.perf_counter()
        isso.seed(dataset)
        print(f"Isso seeded through its API in {time.perf_counter() - t0:.1f} s", flush=True)
        worker_runs: dict[int, dict[str, dict[str, LoadResult]]] = {}
        notes: list[str] = []
        for workers in [args.workers, *args.compare_workers]:
            results: dict[str, dict[str, LoadResult]] = {}
            with PalabreServer(run_dir / "palabre", workers=workers).start() as palabre:
                if not notes:
                    notes = sanity(plan, isso, palabre)
                    for note in notes:
                        print("  " + note)
                token = palabre.form_token(plan.post_targets[0])
                print(f"palabre serve --workers {workers}", flush=True)
                for scenario in args.scenarios:
                    by_engine = results.setdefault(scenario, {})
                    if workers == args.workers and args.rounds > 1:
                        isso_load = isso_requests(plan, scenario, bodies)
                        palabre_load = palabre_requests(plan, scenario, bodies, token)
                        by_engine |= measure_interleaved(
                            scenario,
                            [
                                ("isso", isso.port, isso.pid, isso_load),
                                ("palabre", palabre.port, palabre.pid, palabre_load),
                            ],
                            args,
                        )
                        continue
                    if workers == args.workers or "isso" not in by_engine:
                        ref = worker_runs.get(args.workers, {}).get(scenario, {}).get("isso")
                        by_engine["isso"] = ref or measure(
                            scenario,
                            "isso",
                            isso.port,
                            isso.pid,
                            isso_requests(plan, scenario, bodies),
                            args,
                        )
                    by_engine["palabre"] = measure(
                        scenario,
                        "palabre",
                        palabre.port,
                        palabre.pid,
                        palabre_requests(plan, scenario, bodies, token),
                        args,
                    )
            worker_runs[workers] = results
    elapsed = time.perf_counter() - started

    main_results = worker_runs[args.workers]
    out_table = table(plan, main_results, f"Palabre (`--workers {args.workers}`)")
    out_table = out_table.replace("{d}", f"{args.duration:g}")
    verdicts = checks(main_results)
    print()
    print(out_table)
    for line in verdicts:
        print("  " + line)
    extra = []
    for workers, results in worker_runs.items():
        if workers == args.workers:
            continue
        extra.append(f"\nSame run, Palabre with `--workers {workers}` (Isso figures as above):\n")
        extra.append(
            table(plan, results, f"Palabre (`--workers {workers}`)").replace(
                "{d}", f"{args.duration:g}"
            )
        )
        print("\n".join(extra[-2:]))

    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "isso_compare.json").write_text(
        json.dumps(
            {
                str(w): {s: {e: r.as_dict() for e, r in by.items()} for s, by in res.items()}
                for w, res in worker_runs.items()
            },
            indent=2,
        )
    )

    if not args.no_write:
        given = sys.argv[1:] if argv is None else argv
        command = ".venv/bin/python -m bench.isso_compare " + shlex.join(given)
        body = "\n".join(
            [
                f"Command (from the project root): `{command.strip()}` "
                f"({elapsed / 60:.1f} min in all).",
                "",
                machine_note() + (f" {args.idle_note}" if args.idle_note else ""),
                "",
                f"Isso {ISSO_VERSION} from PyPI in a throwaway venv, run as its "
                "Dockerfile runs it (`gunicorn -w 4 --preload isso.run`, sync workers, SQLite); "
                f"Palabre `palabre serve --workers {args.workers}` on SQLite (WAL), spam filter "
                "on, rate limit off on both. Load: wrk, 16 connections (kept alive where the "
                "server allows; Isso's sync workers close each one), "
                f"{args.duration:g} s per scenario after a {args.warmup:g} s warm-up, on "
                "127.0.0.1; "
                + (
                    f"the two servers take turns in {args.rounds} slices of "
                    f"{args.duration / args.rounds:g} s per scenario (so a change in the "
                    "shared host's speed weighs on both; p50 is the slices' median, p99 the "
                    "worst slice's). "
                    if args.rounds > 1
                    else "the two servers take turns per scenario. "
                )
                + "Peak RSS is summed over each server's "
                "process tree (/proc, sampled every 0.25 s); PSS counts pages shared between "
                "forked workers once.",
                "",
                out_table,
                "",
                *[f"- {line}" for line in notes + verdicts],
                *extra,
            ]
        )
        update_section("Comments vs Isso", body)
        print(f"\nwrote the 'Comments vs Isso' section of {ROOT / 'bench' / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
