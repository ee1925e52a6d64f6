"""Reading labelled CSV files (`id,text,label,author,date,source`, label 1 = spam).

An optional `permalink` column gives the address of the page each comment was posted on,
which the filter gets on a live site (a link to the page itself is not a link, see
features.without_page_links); rows of the YouTube Spam Collection, whose `source` is
`youtube:<video>:<video id>`, get their video's address when the column is absent.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .normalize import MAX_CHARS

REQUIRED_COLUMNS = ("id", "text", "label", "author", "date", "source")
# E-mails are long; the first part carries the signal, and comments are rarely longer.
# (1,000 rather than 3,000 halves training time: e-mail n-grams dominate the matrix.)
MAX_TRAIN_CHARS = 1000


class DataError(ValueError):
    """A data file is missing or malformed; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    text: str
    label: int
    author: str
    source: str
    file: str
    permalink: str = ""

    @property
    def corpus(self) -> str:
        return self.source.split(":", 1)[0] or "unknown"


def default_data_dir() -> Path:
    return Path(os.environ.get("PALABRE_TEST_DATA", "../shared/data"))


def read_csv(path: str | Path, limit: int | None = None) -> list[Example]:
    """Read one labelled CSV; raises DataError with the file, line and fix on bad input."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"data file not found: {p}")
    csv.field_size_limit(sys.maxsize)  # e-mail bodies exceed the 128 kB default
    out: list[Example] = []
    try:
        with p.open(encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in ("text", "label") if c not in header]
            if missing:
                raise DataError(
                    f"{p}: missing column(s) {', '.join(missing)}; expected header "
                    f"{','.join(REQUIRED_COLUMNS)}"
                )
            for row in reader:
                label_raw = (row.get("label") or "").strip()
                if label_raw not in ("0", "1"):
                    raise DataError(
                        f"{p}, line {reader.line_num}: label must be 0 (ham) or 1 (spam), "
                        f"got {label_raw!r}"
                    )
                source = (row.get("source") or "").strip() or p.stem
                out.append(
                    Example(
                        id=row.get("id") or str(len(out)),
                        text=(row.get("text") or "")[:MAX_CHARS],
                        label=int(label_raw),
                        author=row.get("author") or "",
                        source=source,
                        file=p.name,
                        permalink=(row.get("permalink") or "").strip() or source_page(source),
                    )
                )
                if limit is not None and len(out) >= limit:
                    break
    except csv.Error as exc:
        raise DataError(f"{p}: not a readable CSV file ({exc})") from exc
    if not out:
        raise DataError(f"{p}: no rows")
    return out


def source_page(source: str) -> str:
    """The page a `source` names, where it names one: `youtube:<video>:<video id>`."""
    parts = source.split(":")
    if len(parts) == 3 and parts[0] == "youtube" and parts[2]:
        return f"https://www.youtube.com/watch?v={parts[2]}"
    return ""


def read_many(paths: list[str | Path], limit: int | None = None) -> list[Example]:
    rows: list[Example] = []
    for path in paths:
        rows.extend(read_csv(path, limit))
    return rows
