"""What every ``palabre`` command group shares: the --config option and opening the store.

Settings (pydantic) and the store (SQLAlchemy) are imported where they are used, not here:
``palabre serve``'s supervisor process imports this module and stays alive beside its
workers, and would otherwise carry both for nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from palabre.config import Settings
    from palabre.store import Store

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML configuration file (default: $PALABRE_CONFIG, else built-in defaults).",
)


def settings_from(config_path: Path | None) -> Settings:
    from palabre.config import ConfigError, load_settings

    try:
        return load_settings(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def open_store(settings: Settings) -> Store:
    """The migrated store, or an error that says what to check."""
    from palabre.store import Store

    store = Store(settings.resolved_database_url)
    try:
        store.migrate()
    except Exception as exc:
        store.close()
        raise click.ClickException(
            f"cannot open the database ({exc.__class__.__name__}: {exc}); check "
            "PALABRE_DATABASE_URL / database_url and that the server is reachable"
        ) from exc
    return store
