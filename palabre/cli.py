"""The ``palabre`` command (click): serve, database, spam filter, keys, admin users."""

from __future__ import annotations

import importlib
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import click

from palabre.cli_common import config_option, open_store, settings_from

if TYPE_CHECKING:
    # Only for annotations: serve's supervisor process imports this module and stays alive
    # for the server's lifetime, so it must not load pydantic, SQLAlchemy or FastAPI.
    from fastapi import FastAPI

    from palabre.config import Settings
    from palabre.store import Store

SETTINGS_ENV = "_PALABRE_SETTINGS_JSON"  # hands validated settings to worker processes


class LazyGroup(click.Group):
    """Imports a command group only when it is used: `palabre serve` (whose supervisor
    process stays alive beside its workers) never loads NumPy for the spam CLI."""

    lazy: ClassVar[dict[str, str]] = {
        "admin": "palabre.web.admin_cli:admin_cli",
        "keys": "palabre.akismet.cli:keys_cli",
        "privacy": "palabre.privacy.cli:privacy_cli",
        "spam": "palabre.spam.cli:spam_cli",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attribute = self.lazy[name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="palabre")
def main() -> None:
    """Palabre: self-hosted comments with a learning spam filter."""


@main.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (they share the database and what the filter learned).",
)
def serve(config_path: Path | None, host: str, port: int, workers: int) -> None:
    """Run the comment server, the demo page and the admin."""
    import uvicorn

    if workers == 1:
        plan = prepare_serve(config_path, host, port)  # this one process needs it all anyway
    else:
        plan = _prepare_in_child_process(config_path, host, port)
    for line in plan.banner:
        click.echo(line)
    os.environ[SETTINGS_ENV] = plan.settings_json
    uvicorn.run(
        "palabre.cli:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


@dataclass(frozen=True)
class ServePlan:
    """What serve needs from its preparation; picklable, as it may cross a process boundary."""

    settings_json: str
    banner: tuple[str, ...]


def prepare_serve(config_path: Path | None, host: str, port: int) -> ServePlan:
    """Everything serve does before it listens: validate the settings, create the secrets,
    migrate, make the first admin account. Done once here, so worker processes never race
    each other on a migration or on writing the secrets file."""
    from palabre.config import load_or_create_secrets

    settings = settings_from(config_path)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = settings.public_url.rstrip("/") or f"http://{shown_host}:{port}"
    settings = settings.with_default_site(f"http://{shown_host}:{port}")
    load_or_create_secrets(settings.data_dir)
    if settings.spam.enabled:
        _check_spam_model()
    store = open_store(settings)
    try:
        first_admin = _first_admin_account(store)
    finally:
        store.close()
    return ServePlan(settings.model_dump_json(), _banner(settings, base, first_admin))


def _check_spam_model() -> None:
    """Load the filter's model once here: a worker that cannot load it would crash, and
    uvicorn's supervisor would restart it forever instead of telling anyone why."""
    from palabre.spam import SpamFilter

    try:
        SpamFilter.load_default()
    except (OSError, ValueError) as exc:
        raise click.ClickException(
            f"the spam filter's model cannot be loaded ({exc}); reinstall Palabre, retrain it "
            "with `palabre spam train`, or run without the filter (PALABRE_SPAM__ENABLED=false)"
        ) from exc


def _prepare_in_child_process(config_path: Path | None, host: str, port: int) -> ServePlan:
    """prepare_serve in a short-lived process. With several workers this process becomes
    uvicorn's supervisor and lives as long as the server: what preparing loads (pydantic,
    SQLAlchemy, Alembic, argon2: ~40 MiB) leaves with the child instead of staying here.

    Errors come back as raised: a click.ClickException pickles by its message, so a bad
    configuration or an unreachable database reads exactly as with one worker."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            return pool.submit(prepare_serve, config_path, host, port).result()
    except BrokenProcessPool as exc:
        raise click.ClickException(f"preparing to serve failed: {exc}") from exc


def _banner(settings: Settings, base: str, first_admin: str | None) -> tuple[str, ...]:
    where = "SQLite file " + settings.resolved_database_url.removeprefix("sqlite:///")
    if not settings.resolved_database_url.startswith("sqlite"):
        where = "PostgreSQL"
    lines = [
        f"Palabre on {where}",
        f"  demo article page: {base}/",
        f"  admin:             {base}/admin",
        f"  API docs:          {base}/api/docs",
    ]
    if first_admin:
        lines += [
            f"  first admin account: user 'admin', password '{first_admin}' (shown once;",
            "  change it with `palabre admin set-password admin`)",
        ]
    return tuple(lines)


def _first_admin_account(store: Store) -> str | None:
    """On a brand-new installation, make an admin account so the admin is usable at once.

    The password is random, printed once and stored only as an argon2 hash."""
    from palabre.web.accounts import create_user

    if store.users.list():
        return None
    password = secrets.token_urlsafe(12)
    create_user(store, "admin", password, role="admin")
    return password


def app_from_environment() -> FastAPI:
    """Factory for uvicorn's workers: settings were validated, and the schema migrated, once
    by ``serve``; so workers skip migrating and never load Alembic."""
    from palabre.app import create_app
    from palabre.config import Settings

    return create_app(Settings.model_validate_json(os.environ[SETTINGS_ENV]), migrate=False)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("migrate")
@config_option
def db_migrate(config_path: Path | None) -> None:
    """Apply pending schema migrations (serve does this too, on start)."""
    open_store(settings_from(config_path)).close()
    click.echo("schema is up to date")


@main.command("check-config")
@config_option
def check_config(config_path: Path | None) -> None:
    """Validate the configuration and print it (secrets are kept in a separate file)."""
    click.echo(settings_from(config_path).model_dump_json(indent=2))


if __name__ == "__main__":
    sys.exit(main())
