"""Replace one ``## Section`` of bench/RESULTS.md, leaving every other section as it is.

Several benchmark scripts (and people) write to the same file; each owns its sections.
"""

from __future__ import annotations

import fcntl
import os
import platform
import re
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\n"
    "Each section is written by the script it names, with the exact command.\n"
)


def update_section(title: str, body: str, path: Path = RESULTS) -> None:
    """Put ``## title`` + body in place of the existing section of that title, or append.

    Scripts running at the same time take turns (a lock file), so none loses another's
    section."""
    with open(Path(tempfile.gettempdir()) / "palabre-bench-results.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _update(title, body, path)


def _update(title: str, body: str, path: Path) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    text = text.rstrip("\n") + "\n"
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)


def machine_note() -> str:
    """Date, CPU, and how busy the machine was (load average) when the run ended."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=RESULTS.parent,
        check=False,
    ).stdout.strip()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Run {when} on {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"commit {commit or '?'}; load average at the end {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f} (1/5/15 min)."
    )
