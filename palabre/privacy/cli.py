"""``palabre privacy``: a commenter's export and erasure, and the retention job on demand."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from palabre.cli_common import config_option, open_store, settings_from
from palabre.config import Settings
from palabre.store import Store


def _open(config_path: Path | None) -> tuple[Settings, Store]:
    settings = settings_from(config_path)
    return settings, open_store(settings)


@click.group("privacy")
def privacy_cli() -> None:
    """Commenters' data: export, erasure, retention."""


@privacy_cli.command("export")
@config_option
@click.argument("email")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the JSON here instead of standard output.")  # fmt: skip
def export(config_path: Path | None, email: str, output: Path | None) -> None:
    """Everything stored about the comments written with EMAIL, as JSON."""
    from palabre.privacy.retention import export_commenter

    _, store = _open(config_path)
    try:
        data = orjson.dumps(export_commenter(store, email), option=orjson.OPT_INDENT_2)
    finally:
        store.close()
    if output:
        output.write_bytes(data + b"\n")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(data.decode())


@privacy_cli.command("erase")
@config_option
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(config_path: Path | None, email: str, yes: bool) -> None:
    """Erase every comment written with EMAIL (text, name, e-mail, website, IP, user agent)."""
    from palabre.privacy.retention import erase_commenter

    if not yes:
        click.confirm(f"Erase every comment written with {email}?", abort=True)
    _, store = _open(config_path)
    try:
        count = erase_commenter(store, email)
    finally:
        store.close()
    click.echo(f"erased {count} comment(s) written with {email}")


@privacy_cli.command("purge")
@config_option
def purge(config_path: Path | None) -> None:
    """Run the retention job now (the server also runs it every hour)."""
    from palabre.privacy.retention import run_retention

    settings, store = _open(config_path)
    try:
        report = run_retention(store, settings)
    finally:
        store.close()
    for key, value in report.as_dict().items():
        click.echo(f"{key.replace('_', ' ')}: {value}")
