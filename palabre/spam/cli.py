"""`palabre spam ...`: train the shipped model, evaluate it, check one comment."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from .data import DataError, Example, default_data_dir, read_many

DEFAULT_TRAIN_FILES = (
    "spam/youtube_spam_collection.csv",
    "spam/sms_spam_collection.csv",
    "spam/spamassassin_email.csv",
)
DATA_HELP = "Data directory (default: $PALABRE_TEST_DATA, else ../shared/data)."


@contextmanager
def _progress(label: str, total: int) -> Iterator:
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _resolve(data_dir: Path, name: str) -> Path:
    """A path as given, else relative to the data directory."""
    p = Path(name)
    if p.is_file():
        return p
    q = data_dir / name
    if q.is_file():
        return q
    if not data_dir.is_dir():
        raise click.UsageError(
            f"data directory not found: {data_dir} (set --data-dir or PALABRE_TEST_DATA)"
        )
    raise click.UsageError(f"data file not found: {name} (looked in . and {data_dir})")


def _load(data_dir: Path, names: Sequence[str], limit: int | None) -> list[Example]:
    try:
        return read_many([_resolve(data_dir, n) for n in names], limit)
    except DataError as e:
        raise click.ClickException(str(e)) from e


def _table(title: str, rows: list[tuple[str, dict]]) -> None:
    cols = ("roc_auc", "spam_f1", "fpr", "recall", "recall_at_fpr_0_5", "n")
    click.echo(title)
    click.echo(f"{'':<34}" + "".join(f"{c:>19}" for c in cols))
    for name, m in rows:
        cells = []
        for c in cols:
            v = m.get(c)
            cells.append(f"{'-' if v is None else (v if c == 'n' else f'{v:.4f}')!s:>19}")
        click.echo(f"{name[:34]:<34}" + "".join(cells))


@click.group(name="spam")
def spam_cli() -> None:
    """Spam filter: train the shipped model, evaluate it, check a comment."""


def _data_dir_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--data-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help=DATA_HELP,
    )(f)


lambda_option = click.option(
    "--lambda",
    "lam",
    type=float,
    default=None,
    help="Fix the L2 strength instead of choosing it by grouped CV (faster; for quick runs).",
)


@spam_cli.command()
@_data_dir_option
@click.option(
    "--file",
    "files",
    multiple=True,
    help="Training CSV (repeatable; default: the three corpora in spam/).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Model directory (default: the package's palabre/spam/model/).",
)
@lambda_option
@click.option("--limit", type=int, default=None, help="Read at most N rows per file (testing).")
def train(
    data_dir: Path | None,
    files: tuple[str, ...],
    out: Path | None,
    lam: float | None,
    limit: int | None,
) -> None:
    """Train the default model reproducibly and write weights + model card."""
    from .evaluate import dataset
    from .model import MODEL_DIR
    from .train import LAMBDAS, file_record
    from .train import train as fit

    command = train_command(data_dir, files or DEFAULT_TRAIN_FILES, out, lam, limit)
    data_dir = data_dir or default_data_dir()
    names = files or DEFAULT_TRAIN_FILES
    paths = [_resolve(data_dir, n) for n in names]
    t0 = time.perf_counter()
    file_info = []
    rows: list[Example] = []
    for p in paths:
        try:
            part = read_many([p], limit)
        except DataError as e:
            raise click.ClickException(str(e)) from e
        rows.extend(part)
        file_info.append(file_record(str(p), len(part)))
    with _progress("featurising", len(rows)) as step:
        ds = dataset(rows, step)
    with _progress("training", 1) as step:
        model = fit(ds, lambdas=(lam,) if lam else LAMBDAS, progress=step)
    model.card["data"] = file_info
    model.card["command"] = command
    model.card["lambda_selection"] = (
        "fixed with --lambda"
        if lam
        else "grid by held-out-group CV: strongest lambda within one SE of the best pooled AUC"
    )
    model.card["row_limit_per_file"] = limit
    model.card["train_seconds"] = round(time.perf_counter() - t0, 1)
    target = model.save(out or MODEL_DIR)
    size = sum(f.stat().st_size for f in target.iterdir() if f.is_file())
    click.echo(f"model written to {target} ({size / 1e6:.2f} MB)")
    click.echo(f"thresholds: {model.thresholds}")
    _table(
        "held-out-group metrics (each group scored by a model that never saw it):",
        sorted(model.card["heldout_group_metrics"].items()),
    )


def train_command(
    data_dir: Path | None,
    files: Sequence[str],
    out: Path | None,
    lam: float | None,
    limit: int | None,
) -> str:
    """The `palabre spam train` command line that rebuilds a model, for its card. Built from
    the parsed options, because sys.argv differs between `palabre spam train` and
    `python -m palabre.spam train`; the data themselves are pinned by the card's sha256s."""
    args = ["palabre", "spam", "train"]
    if data_dir is not None:
        args += ["--data-dir", str(data_dir)]
    if tuple(files) != DEFAULT_TRAIN_FILES:
        for name in files:
            args += ["--file", name]
    if lam:
        args += ["--lambda", f"{lam:g}"]
    if limit is not None:
        args += ["--limit", str(limit)]
    if out is not None:
        args += ["--out", str(out)]
    return shlex.join(args)


@spam_cli.command(name="eval")
@_data_dir_option
@click.option(
    "--protocol",
    type=click.Choice(["shipped", "cross", "lovo", "stream"]),
    required=True,
    help="shipped: packaged model on --test; cross: train on --train, test on --test; "
    "lovo: leave each source of --data out in turn; stream: score then learn --test in order.",
)
@click.option("--train", "train_files", multiple=True, help="Training CSV (repeatable).")
@click.option("--test", "test_file", default=None, help="Test CSV.")
@click.option("--data", "data_file", default=None, help="CSV for --protocol lovo.")
@click.option(
    "--test-source",
    default=None,
    help="Only test rows with this `source`; those rows are then left out of training.",
)
@lambda_option
@click.option("--limit", type=int, default=None, help="Read at most N rows per file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def eval_cmd(
    data_dir: Path | None,
    protocol: str,
    train_files: tuple[str, ...],
    test_file: str | None,
    data_file: str | None,
    test_source: str | None,
    lam: float | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Evaluate the filter; fpr/recall are at the model's shipped spam threshold."""
    from . import evaluate as ev
    from .filter import SpamFilter
    from .train import LAMBDAS

    lambdas = (lam,) if lam else LAMBDAS
    data_dir = data_dir or default_data_dir()
    if protocol == "lovo":
        if not data_file:
            raise click.UsageError("--protocol lovo needs --data FILE (with a `source` column)")
        rows = _load(data_dir, [data_file], limit)
        n_src = len({r.source for r in rows})
        # Each fold featurises its training rows, trains, then scores its test rows.
        with _progress("lovo", len(rows) * n_src + n_src) as step:
            try:
                res = ev.protocol_lovo(rows, step, lambdas)
            except ValueError as e:
                raise click.UsageError(str(e)) from e
        title = f"lovo on {data_file}"
        table = [(k, v) for k, v in res["folds"].items()] + [("mean", res)]
    else:
        if not test_file:
            raise click.UsageError(f"--protocol {protocol} needs --test FILE")
        if protocol == "cross" and not train_files:
            raise click.UsageError("--protocol cross needs at least one --train FILE")
        if protocol == "shipped" and train_files:
            raise click.UsageError("--protocol shipped uses the packaged model: drop --train")
        test_rows = _load(data_dir, [test_file], limit)
        if test_source:
            test_rows = [r for r in test_rows if r.source == test_source]
            if not test_rows:
                raise click.UsageError(f"no rows with source {test_source!r} in {test_file}")
        train_rows = _load(data_dir, list(train_files), limit) if train_files else []
        if test_source:
            train_rows = [r for r in train_rows if r.source != test_source]
        filt = None
        if train_rows:
            with _progress("training", len(train_rows) + 1) as step:
                filt = ev.train_filter(train_rows, step, lambdas)
        else:
            try:
                filt = SpamFilter.load_default()
            except FileNotFoundError as e:
                raise click.ClickException(str(e)) from e
        with _progress("evaluating", len(test_rows)) as step:
            if protocol == "stream":
                res = ev.protocol_stream(filt, test_rows, step)
            else:
                res = ev.evaluate(filt, test_rows, step)
        title = f"{protocol}: test {test_file}" + (f" ({test_source})" if test_source else "")
        table = [("all", res)]
        if protocol == "stream":
            table += [(f"after {c['after']} labels", c) for c in res["curve"]]
    if as_json:
        click.echo(json.dumps(res, sort_keys=True))
    else:
        _table(title, table)
        click.echo(f"spam threshold: {res.get('threshold', '(per fold)')}")


@spam_cli.command()
@click.argument("text", required=False)
@click.option("--author", default=None, help="Author display name.")
@click.option("--email", default=None, help="Author e-mail.")
@click.option("--website", default=None, help="Author website URL.")
@click.option("--ip", default=None, help="Client IP address.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def check(
    text: str | None,
    author: str | None,
    email: str | None,
    website: str | None,
    ip: str | None,
    as_json: bool,
) -> None:
    """Score one comment TEXT (or stdin when TEXT is omitted or '-')."""
    from .filter import CommentRecord, SpamFilter

    if text is None or text == "-":
        if sys.stdin.isatty():
            raise click.UsageError("give the comment text as an argument or on stdin")
        text = sys.stdin.read()
    try:
        filt = SpamFilter.load_default()
    except FileNotFoundError as e:
        raise click.ClickException(str(e)) from e
    v = filt.check(CommentRecord(text=text, author=author, email=email, website=website, ip=ip))
    if as_json:
        click.echo(json.dumps(v.to_dict(), ensure_ascii=False))
        return
    click.echo(f"{v.klass} (score {v.score:.4f})")
    for r in v.reasons:
        click.echo(f"  {r.weight:+.2f}  {r.text}")
