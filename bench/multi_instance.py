"""Two ``palabre serve`` processes on one PostgreSQL, behind no balancer.

    .venv/bin/python -m bench.multi_instance               # about 2 minutes
    .venv/bin/python -m bench.multi_instance --duration 3 --no-write   # smoke

Shows, and checks:
1. each instance takes half the load (wrk on A and on B at the same time: thread reads,
   counts, new comments), with the throughput of each and of both;
2. a comment posted to one is read from the other at once: the very next GET on the other
   instance returns it (and its thread's count), while both are under load, in both
   directions; each instance keeps its own thread cache, validated by the thread's version;
3. a spam decision made on one changes verdicts on the other: a borderline comment is scored
   on B; a moderator marks near-identical comments as spam in A's admin API; the next
   near-identical comment is scored on B again. B is never told anything: it replays the
   ``spam_event`` log it has not seen before its next verdict. A control comment, unlike the
   spam, is scored on B before and after.

Both instances share one data directory (its secrets file, so edit and form tokens minted
by one are valid on the other, as behind a real balancer) and trust X-Forwarded-For, so each
simulated reader has an address of their own.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import sqlalchemy as sa

from bench import seed_data
from bench.isso_compare import make_plan, post_bodies
from bench.loadgen import LoadResult, Request, run_load
from bench.results_md import machine_note, update_section
from bench.servers import (
    BENCH_HOME,
    CODE,
    ROOT,
    SITE_ORIGIN,
    PalabreServer,
    palabre_env,
    palabre_seed,
)

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "palabre_bench_multi"
PG_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"
ADMIN_USER, ADMIN_PASSWORD = "bench-moderator", "correct horse battery staple 42"

# Candidates for a borderline comment, each with near-identical variants: the demo picks
# the candidate the shipped model scores closest to its "unsure" threshold.
BORDERLINE = [
    "Great article! I found a similar guide that helped me a lot, check {url} for more tips.",
    "Thanks for sharing. We offer the same service at a better price, see {url} today.",
    "Nice post. If you need cheap hosting for your blog, visit {url} and get 30% off.",
    "Interesting read, I wrote about this too: {url} (free ebook for subscribers).",
    "Very informative! Our team can help with SEO and more traffic, contact us at {url}",
]
DOMAINS = ["deals-hub.example", "best-offers.example", "promo-zone.example", "top-rank.example"]
CONTROL = (
    "I took the night train last winter and it was late twice; the article's numbers on "
    "delays match what I saw. Would be good to hear from the operator."
)


def create_database() -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{PG_DB}"')
    admin.dispose()


def drop_database() -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
    admin.dispose()


def create_moderator(data_dir: Path) -> None:
    env = palabre_env(data_dir, PG_URL)
    env["PYTHONPATH"] = str(CODE)
    command = [
        sys.executable,
        "-m",
        "palabre",
        "admin",
        "create-user",
        ADMIN_USER,
        "--role",
        "moderator",
        "--password-stdin",
    ]
    subprocess.run(
        command,
        input=ADMIN_PASSWORD + "\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


class Client:
    """One reader or moderator talking to one instance."""

    def __init__(self, server: PalabreServer, ip: str = "198.51.100.7") -> None:
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30)
        self.ip = ip

    def post(
        self, uri: str, text: str, author: str, ip: str, token: str | None = None
    ) -> dict[str, Any]:
        body = {"uri": uri, "author": author, "text": text, "email": None}
        if token:
            body["form_token"] = token
        headers = {
            "Origin": SITE_ORIGIN,
            "X-Forwarded-For": ip,
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) bench",
        }
        response = self.http.post("/api/comments", json=body, headers=headers)
        if response.status_code not in (201, 202):
            raise RuntimeError(f"post refused ({response.status_code}): {response.text}")
        return response.json()

    def thread(self, uri: str) -> dict[str, Any]:
        response = self.http.get(
            "/api/comments", params={"uri": uri, "limit": 500}, headers={"Origin": SITE_ORIGIN}
        )
        response.raise_for_status()
        return response.json()

    def count(self, uri: str) -> int:
        response = self.http.get(
            "/api/counts", params={"uri": uri}, headers={"Origin": SITE_ORIGIN}
        )
        response.raise_for_status()
        return int(response.json()[uri])

    def form_token(self, uri: str) -> str:
        return str(self.thread(uri)["config"]["form_token"])

    def login(self) -> None:
        response = self.http.post(
            "/api/admin/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD}
        )
        if response.status_code != 200:
            raise RuntimeError(f"moderator login refused ({response.status_code}): {response.text}")

    def mark_spam(self, ids: list[int]) -> dict[str, Any]:
        response = self.http.post("/api/admin/comments/action", json={"ids": ids, "action": "spam"})
        if response.status_code != 200:
            raise RuntimeError(f"moderation refused ({response.status_code}): {response.text}")
        return response.json()


def ids_in(items: list[dict[str, Any]]) -> set[int]:
    out: set[int] = set()
    for item in items:
        out.add(item["id"])
        out |= ids_in(item.get("replies") or [])
    return out


def verdict_of(comment_id: int) -> tuple[float, str]:
    """The filter's verdict as the instance stored it with the comment."""
    from palabre.store.schema import comment

    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(comment.c.spam_score, comment.c.spam_class).where(
                    comment.c.id == comment_id
                )
            ).one()
    finally:
        engine.dispose()
    return float(row.spam_score), str(row.spam_class)


def reasons_of(comment_id: int) -> Any:
    from palabre.store.schema import comment

    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            query = sa.select(comment.c.spam_score, comment.c.spam_reasons)
            return list(conn.execute(query.where(comment.c.id == comment_id)).one())
    finally:
        engine.dispose()


def cross_reads(a: PalabreServer, b: PalabreServer, uris: list[str], rounds: int) -> dict[str, Any]:
    """Post on one, read the thread and its count on the other, immediately; both ways."""
    ca, cb = Client(a), Client(b)
    token = ca.form_token(uris[0])
    time.sleep(3.5)  # the form is filled in at a human pace: timing alone must not hold it
    rng = random.Random(rounds)
    seen = missing = 0
    latencies = []
    held: list[Any] = []
    for i in range(rounds):
        writer, reader = (ca, cb) if i % 2 == 0 else (cb, ca)
        uri = uris[i % len(uris)]
        before = reader.thread(uri)  # warms the reader's cache for this thread
        name, _, _ = seed_data.author(rng)
        text = seed_data.comment_text(rng)
        posted = writer.post(uri, text, name, f"192.0.2.{i % 250 + 1}", token)
        started = time.perf_counter()
        after = reader.thread(uri)
        count = reader.count(uri)
        latencies.append((time.perf_counter() - started) * 1000)
        visible = posted["status"] == "approved"
        if (
            visible
            and posted["id"] in ids_in(after["comments"])
            and count == before["thread"]["count"] + 1
        ):
            seen += 1
        elif visible:
            missing += 1
        elif len(held) < 2:
            held.append(reasons_of(posted["id"]))
    return {
        "rounds": rounds,
        "seen": seen,
        "missing": missing,
        "held": rounds - seen - missing,
        "read_ms_max": round(max(latencies), 1),
        "held_examples": held,
    }


def split_load(
    a: PalabreServer, b: PalabreServer, plan: Any, duration: float, token: str
) -> dict[str, dict[str, LoadResult]]:
    origin = (("Origin", SITE_ORIGIN),)
    reads = [
        Request("GET", f"/api/comments?uri={quote(u, safe='')}&sort=oldest", headers=origin)
        for u in [plan.hot, plan.small, *plan.count_uris]
    ]
    query = "&".join("uri=" + quote(u, safe="") for u in plan.count_uris)
    reads.append(Request("GET", "/api/counts?" + query, headers=origin))
    posts = []
    for i, body in enumerate(post_bodies(300)):
        fields = {k: body[k] for k in ("text", "author", "email", "website")}
        fields |= {"uri": plan.post_targets[i % len(plan.post_targets)], "form_token": token}
        headers = (*origin, ("X-Forwarded-For", f"10.{i // 250}.{i % 250}.9"))
        posts.append(Request("POST", "/api/comments", json.dumps(fields).encode(), headers))
    out: dict[str, dict[str, LoadResult]] = {}
    for name, requests in (("reads", reads), ("new comments", posts)):
        results: dict[str, LoadResult] = {}

        def drive(
            label: str,
            server: PalabreServer,
            requests: list[Request] = requests,
            results: dict[str, LoadResult] = results,
        ) -> None:
            results[label] = run_load(
                f"http://127.0.0.1:{server.port}",
                requests,
                connections=8,
                duration=duration,
                server_pid=server.pid,
            )

        threads = [
            threading.Thread(target=drive, args=("A", a)),
            threading.Thread(target=drive, args=("B", b)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out[name] = results
        both = results["A"].rps + results["B"].rps
        print(
            f"  {name}: A {results['A'].rps:,.0f} req/s + B {results['B'].rps:,.0f} req/s = "
            f"{both:,.0f} req/s; p99 A {results['A'].p99_ms:.1f} ms, "
            f"B {results['B'].p99_ms:.1f} ms; "
            f"errors {results['A'].errors + results['B'].errors}",
            flush=True,
        )
    return out


def pick_borderline() -> tuple[str, float]:
    """The candidate the shipped model, with no site history, scores closest to 'unsure'."""
    from palabre.spam import CommentRecord, SpamFilter

    spam_filter = SpamFilter.load_default()
    unsure = spam_filter.thresholds.unsure
    best = None
    for template in BORDERLINE:
        text = template.format(url=f"https://{DOMAINS[0]}/go")
        record = CommentRecord(
            text=text,
            author="Jenny",
            ip="203.0.113.50",
            seconds_to_submit=20.0,
            permalink="/articles/story-0005/",
        )
        score = spam_filter.check(record).score
        if best is None or abs(score - unsure) < abs(best[1] - unsure):
            best = (template, score)
    assert best is not None
    return best


def spam_propagation(
    a: PalabreServer, b: PalabreServer, uri: str, decisions: int
) -> dict[str, Any]:
    ca, cb = Client(a), Client(b)
    moderator = Client(a)
    moderator.login()
    template, offline = pick_borderline()
    token = cb.form_token(uri)
    time.sleep(3.5)  # a form filled in at a human pace, so timing alone does not decide
    variant = 0

    def text() -> str:
        nonlocal variant
        variant += 1
        domain = DOMAINS[variant % len(DOMAINS)]
        return template.format(url=f"https://{domain}/go?ref={variant}")

    control_before = cb.post(uri, CONTROL, "Marta Quist", "203.0.113.40", token)
    probe_before = cb.post(uri, text(), "Jenny", "203.0.113.41", token)
    marked = []
    for i in range(decisions):
        posted = ca.post(uri, text(), "Jenny", f"203.0.113.{60 + i}", token)
        marked.append(posted["id"])
    decision = moderator.mark_spam(marked)
    probe_after = cb.post(uri, text(), "Jenny", "203.0.113.42", token)
    control_after = cb.post(
        uri, CONTROL.replace("last winter", "last spring"), "Marta Quist", "203.0.113.43", token
    )
    out = {
        "template": template,
        "offline_score": offline,
        "decisions_on_A": decision,
        "probe_before": (
            probe_before["id"],
            *verdict_of(probe_before["id"]),
            probe_before["status"],
        ),
        "probe_after": (probe_after["id"], *verdict_of(probe_after["id"]), probe_after["status"]),
        "control_before": (control_before["id"], *verdict_of(control_before["id"])),
        "control_after": (control_after["id"], *verdict_of(control_after["id"])),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of split load")
    parser.add_argument("--rounds", type=int, default=40, help="cross-instance read checks")
    parser.add_argument("--decisions", type=int, default=3, help="comments A's moderator marks")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    run_dir = BENCH_HOME / f"multi-{time.strftime('%Y%m%d-%H%M%S')}"
    data_dir = run_dir / "shared-data"
    dataset = seed_data.compare_dataset()
    plan = make_plan(dataset)
    create_database()
    try:
        palabre_seed(data_dir, dataset, seed_data.count(dataset), PG_URL, progress=False)
        create_moderator(data_dir)
        extra = {"PALABRE_TRUST_PROXY_HEADERS": "true"}
        with (
            PalabreServer(data_dir, workers=1, database_url=PG_URL, extra_env=extra).start() as a,
            PalabreServer(data_dir, workers=1, database_url=PG_URL, extra_env=extra).start() as b,
        ):
            print(f"instance A on :{a.port}, instance B on :{b.port}, one PostgreSQL ({PG_DB})")
            token = Client(a).form_token(plan.small)
            quiet = cross_reads(a, b, plan.post_targets, args.rounds)
            print(f"  idle: {quiet}")
            box: dict[str, Any] = {}
            loader = threading.Thread(
                target=lambda: box.update(load=split_load(a, b, plan, args.duration, token))
            )
            loader.start()
            time.sleep(min(3.0, args.duration / 3))
            busy = cross_reads(a, b, plan.post_targets[::-1], args.rounds)
            loader.join()
            print(f"  under load: {busy}")
            spam = spam_propagation(a, b, plan.post_targets[0], args.decisions)
            print(f"  spam decision on A seen on B: {json.dumps(spam, indent=2)}")
    finally:
        if not args.keep:
            drop_database()
    elapsed = time.perf_counter() - started
    load = box["load"]
    lines = [
        "| load (8 connections on each instance, at the same time) | A req/s | B req/s | both | "
        "p50 / p99 ms A | p50 / p99 ms B | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, results in load.items():
        ra, rb = results["A"], results["B"]
        lines.append(
            f"| {name} | {ra.rps:,.0f} | {rb.rps:,.0f} | {ra.rps + rb.rps:,.0f} | "
            f"{ra.p50_ms:.1f} / {ra.p99_ms:.1f} | {rb.p50_ms:.1f} / {rb.p99_ms:.1f} | "
            f"{ra.errors + rb.errors} |"
        )
    table = "\n".join(lines)
    pb, pa = spam["probe_before"], spam["probe_after"]
    cb_, ca_ = spam["control_before"], spam["control_after"]
    spread = pa[1] - pb[1]
    checks = [
        f"Posted on one instance, read on the other at once (next request, both directions): "
        f"idle {quiet['seen']}/{quiet['seen'] + quiet['missing']}, under the load above "
        f"{busy['seen']}/{busy['seen'] + busy['missing']} visible immediately with the right "
        f"count ({quiet['held'] + busy['held']} held for moderation by the filter, not counted).",
        f'Spam decision on A, verdict on B: borderline comment "{spam["template"][:60]}…" scored '
        f"**{pb[1]:.3f} ({pb[2]})** on B; A's moderator marked {args.decisions} near-identical "
        f"comments as spam ({spam['decisions_on_A']}); the next near-identical comment scored "
        f"**{pa[1]:.3f} ({pa[2]})** on B (Δ {spread:+.3f}). Control comment on B: "
        f"{cb_[1]:.3f} ({cb_[2]}) before, {ca_[1]:.3f} ({ca_[2]}) after.",
    ]
    ok = quiet["missing"] == 0 and busy["missing"] == 0 and spread > 0
    print("\n" + table)
    for line in checks:
        print("- " + line)
    if not args.no_write:
        given = sys.argv[1:] if argv is None else argv
        command = (".venv/bin/python -m bench.multi_instance " + shlex.join(given)).strip()
        body = "\n".join(
            [
                f"Command (from the project root): `{command}` ({elapsed / 60:.1f} min in all).",
                "",
                machine_note(),
                "",
                "Two `palabre serve --workers 1` processes, one PostgreSQL, no balancer: wrk "
                "drives each instance directly with half the connections. Reads rotate over "
                "the hot thread, a small thread and 9 other pages plus a counts call; new "
                "comments go through the spam filter.",
                "",
                table,
                "",
                *[f"- {line}" for line in checks],
                f"- All checks {'passed' if ok else 'did NOT pass'}.",
            ]
        )
        update_section("Two instances", body)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
