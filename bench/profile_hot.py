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
from bench.isso_compare import make_plan, palabre_requests, post_bodies
from bench.loadgen import process_tree, run_load
from bench.results_md import machine_note, update_section
from bench.servers import BENCH_HOME, ROOT, PalabreServer, palabre_seed

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
LAYERS = [
    (
        "HTTP server (uvicorn, httptools, asyncio loop)",
        ("uvicorn/", "httptools/", "asyncio/", "uvloop/"),
    ),
    ("thread pool hand-off (anyio, threading)", ("anyio/", "threading.py", "concurrent/")),
    (
        "routing, validation, DI (starlette, fastapi, pydantic)",
        ("starlette/", "fastapi/", "pydantic"),
    ),
    ("SQL (sqlalchemy + driver)", ("sqlalchemy/", "psycopg/", "sqlite3/")),
    ("spam filter (palabre/spam)", ("palabre/spam/",)),
    ("rendering (mistune, nh3, palabre/render)", ("mistune/", "nh3", "palabre/render/")),
    ("palabre, other", ("palabre/",)),
]


def package_of(path: str) -> str:
    if "site-packages/" in path:
        rest = path.split("site-packages/", 1)[1]
        return rest.split("/", 1)[0].removesuffix(".py")
    if "/palabre/" in path:
        rest = path.split("/palabre/", 1)[1]
        return "palabre/" + rest.split("/", 1)[0].removesuffix(".py")
    return "stdlib:" + Path(path).name.removesuffix(".py")


def summarise(raw: Path, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    self_pkg: collections.Counter[str] = collections.Counter()
    self_fn: collections.Counter[str] = collections.Counter()
    layer: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        files = []
        for frame in frames:
            match = FRAME.match(frame.strip())
            files.append((match.group("func"), match.group("file")) if match else (frame, ""))
        func, file = files[-1]
        self_pkg[package_of(file)] += count
        self_fn[f"{func} ({package_of(file)})"] += count
        # Inclusive: the innermost layer the stack reaches.
        joined = [f for _, f in files]
        for name, needles in reversed(LAYERS):
            if any(n in f for f in joined for n in needles):
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
        "samples": [("samples", float(total))],
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="counts", choices=["hot", "small", "counts", "post"])
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="update the Profile section")
    args = parser.parse_args(argv)
    run_dir = BENCH_HOME / f"profile-{time.strftime('%Y%m%d-%H%M%S')}"
    dataset = seed_data.compare_dataset()
    plan = make_plan(dataset)
    palabre_seed(run_dir / "palabre", dataset, seed_data.count(dataset), progress=False)
    with PalabreServer(run_dir / "palabre", workers=args.workers).start() as server:
        token = server.form_token(plan.post_targets[0])
        requests = palabre_requests(plan, args.scenario, post_bodies(), token)
        base = f"http://127.0.0.1:{server.port}"
        run_load(base, requests, duration=2, server_pid=server.pid)
        raw = run_dir / f"{args.scenario}.pyspy.txt"
        sampler = threading.Thread(target=record, args=(server, args.duration, raw))
        sampler.start()
        time.sleep(0.5)
        result = run_load(base, requests, duration=args.duration - 1, server_pid=server.pid)
        sampler.join()
    summary = summarise(raw)
    lines = [
        f"{args.scenario}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms under py-spy ({int(summary['samples'][0][1])} samples)",
    ]
    lines += ["", "| layer (innermost on the stack) | share of samples |", "|---|---:|"]
    lines += [f"| {name} | {pct:.1f} % |" for name, pct in summary["layer"]]
    lines += ["", "| package (self time) | share |", "|---|---:|"]
    lines += [f"| {name} | {pct:.1f} % |" for name, pct in summary["package"]]
    lines += ["", "| function (self time) | share |", "|---|---:|"]
    lines += [f"| `{name}` | {pct:.1f} % |" for name, pct in summary["function"]]
    text = "\n".join(lines)
    print(text)
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / f"profile-{args.scenario}.md").write_text(text + "\n")
    if args.write:
        given = sys.argv[1:] if argv is None else argv
        command = (".venv/bin/python -m bench.profile_hot " + shlex.join(given)).strip()
        update_section(
            f"Profile: {args.scenario}", f"Command: `{command}`\n\n{machine_note()}\n\n{text}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
