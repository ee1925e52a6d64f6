"""Where a Palabre server spends its time under load: py-spy on the live workers.

    .venv/bin/python -m bench.profile_hot --scenario counts --duration 15

Seeds the comparison data set (bench/seed_data.py), starts ``palabre serve``, drives one
scenario with wrk (16 connections) and samples every worker with ``py-spy record`` (100 Hz,
native frames off, idle threads excluded). Prints self time per package and per function,
and the share of samples whose stack passes through each layer (inclusive time).
"""

from __future__ import annotations

import argparse
import collections
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import seed_data
from bench.isso_compare import LABELS, make_plan, palabre_requests, post_bodies
from bench.loadgen import process_tree, run_load
from bench.results_md import machine_note, update_section
from bench.servers import BENCH_HOME, ROOT, PalabreServer, palabre_seed

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# Checked from the innermost frame outwards; the first layer a frame belongs to gets the sample.
LAYERS = [
    ("SQL: SQLAlchemy Core + driver", ("sqlalchemy/", "psycopg/", "sqlite3/", "psycopg_pool/")),
    (
        "spam filter (palabre/spam, numpy, scikit-learn)",
        ("palabre/spam/", "numpy/", "sklearn/", "scipy/"),
    ),
    ("Markdown + sanitiser (mistune, nh3)", ("mistune/", "nh3", "palabre/render/")),
    ("JSON (orjson) and Palabre's own code", ("palabre/", "orjson")),
    ("FastAPI routing, dependencies, validation", ("fastapi/", "pydantic")),
    ("Starlette middleware, requests, responses", ("starlette/",)),
    (
        "thread-pool hand-off (anyio, threading)",
        ("anyio/", "threading.py", "queue.py", "concurrent/"),
    ),
    ("uvicorn HTTP protocol (httptools)", ("uvicorn/", "httptools/")),
    ("asyncio / uvloop event loop", ("asyncio/", "uvloop/", "runners.py")),
]
# Leaf frames where a thread waits rather than works (py-spy cannot always tell).
IDLE = (
    "Condition.wait",
    "Queue.get",
    "Event.wait",
    "select (selectors.py",
    "_worker (",
    "Runner.run (asyncio/runners.py",
    "BaseSelectorEventLoop.select",
)


PY_SPY_NOTE = "record --gil --subprocesses --rate 100 --format raw: only the thread holding the GIL"


def package_of(path: str) -> str:
    path = path.split("site-packages/", 1)[-1]
    if "/palabre/" in path or path.startswith("palabre/"):
        rest = path.split("palabre/", 1)[1]
        return "palabre/" + rest.split("/", 1)[0].removesuffix(".py")
    head = path.split("/", 1)[0]
    return head.removesuffix(".py") if "/" in path else "stdlib:" + head.removesuffix(".py")


def summarise(raw: Path, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    self_pkg: collections.Counter[str] = collections.Counter()
    self_fn: collections.Counter[str] = collections.Counter()
    layer: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        if frames[-1].startswith(IDLE):
            idle += count
            continue
        total += count
        parsed = []
        for frame in frames:
            match = FRAME.match(frame.strip())
            parsed.append((match.group("func"), match.group("file")) if match else (frame, ""))
        func, file = parsed[-1]
        self_pkg[package_of(file)] += count
        self_fn[f"{func} ({package_of(file)})"] += count
        for _, path in reversed(parsed):
            name = next((n for n, needles in LAYERS if any(x in path for x in needles)), None)
            if name:
                layer[name] += count
                break
        else:
            layer["other"] += count

    def share(counter: collections.Counter[str]) -> list[tuple[str, float]]:
        return [(k, 100 * v / total) for k, v in counter.most_common(top)] if total else []

    return {
        "layer": share(layer),
        "package": share(self_pkg),
        "function": share(self_fn),
        "samples": [("busy", float(total)), ("idle", float(idle))],
    }


def record(server: PalabreServer, seconds: float, out: Path) -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    workers = [p for p in process_tree(server.pid)]
    command = [
        py_spy,
        "record",
        "--format",
        "raw",
        "--rate",
        "100",
        "--subprocesses",
        "--gil",
        "-d",
        str(int(seconds)),
        "-p",
        str(server.pid),
        "-o",
        str(out),
        "--nonblocking",
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=seconds + 60)
    print(f"  py-spy sampled {len(workers)} processes into {out}")


def profile_one(
    server: PalabreServer, plan: object, scenario: str, duration: float, run_dir: Path
) -> str:
    token = server.form_token(plan.post_targets[0])  # type: ignore[attr-defined]
    requests = palabre_requests(plan, scenario, post_bodies(), token)  # type: ignore[arg-type]
    base = f"http://127.0.0.1:{server.port}"
    run_load(base, requests, duration=2, server_pid=server.pid)
    raw = run_dir / f"{scenario}.pyspy.txt"
    sampler = threading.Thread(target=record, args=(server, duration, raw))
    sampler.start()
    time.sleep(0.5)
    result = run_load(base, requests, duration=duration - 1, server_pid=server.pid)
    sampler.join()
    summary = summarise(raw)
    label = LABELS[scenario].format(n=plan.small_size)  # type: ignore[attr-defined]
    lines = [
        f"**{label}**: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms while sampled; {int(summary['samples'][0][1])} busy samples "
        f"at 100 Hz ({int(summary['samples'][1][1])} idle ones left out).",
    ]
    lines += ["", "| layer (innermost frame of each busy sample) | share |", "|---|---:|"]
    lines += [f"| {name} | {pct:.1f} % |" for name, pct in summary["layer"]]
    lines += ["", "| function (self time) | share |", "|---|---:|"]
    lines += [f"| `{name}` | {pct:.1f} % |" for name, pct in summary["function"][:12]]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenario",
        nargs="+",
        default=["hot", "counts", "post"],
        choices=["hot", "small", "counts", "post"],
    )
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="update the Profile section")
    parser.add_argument("--notes", default="", help="text put before the tables")
    args = parser.parse_args(argv)
    run_dir = BENCH_HOME / f"profile-{time.strftime('%Y%m%d-%H%M%S')}"
    dataset = seed_data.compare_dataset()
    plan = make_plan(dataset)
    palabre_seed(run_dir / "palabre", dataset, seed_data.count(dataset), progress=False)
    texts = []
    with PalabreServer(run_dir / "palabre", workers=args.workers).start() as server:
        for scenario in args.scenario:
            texts.append(profile_one(server, plan, scenario, args.duration, run_dir))
    body = "\n\n".join(texts)
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / "profile.md").write_text(body + "\n")
    if args.write:
        given = sys.argv[1:] if argv is None else argv
        command = (".venv/bin/python -m bench.profile_hot " + shlex.join(given)).strip()
        head = f"Command: `{command}` (py-spy {PY_SPY_NOTE}, `palabre serve --workers "
        head += f"{args.workers}`, wrk with 16 connections).\n\n{machine_note()}"
        update_section("Profile", "\n\n".join(filter(None, [head, args.notes, body])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
