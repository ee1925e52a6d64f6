"""``palabre keys``: create, list and revoke Akismet API keys."""

from __future__ import annotations

from pathlib import Path

import click

from palabre.akismet.keys import KeyRefused, create_key, revoke_key
from palabre.cli_common import config_option, open_store, settings_from
from palabre.store import Store


def _open_store(config_path: Path | None) -> Store:
    return open_store(settings_from(config_path))


@click.group("keys")
def keys_cli() -> None:
    """Akismet API keys: other sites check comments against this server with them."""


@keys_cli.command("create")
@config_option
@click.option("--site", "site_url", required=True, metavar="URL",
              help="The site's front-page URL, e.g. https://blog.example.com/")  # fmt: skip
def create(config_path: Path | None, site_url: str) -> None:
    """Make a new 12-character key and print it (only its hash is stored: copy it now)."""
    store = _open_store(config_path)
    try:
        key, _ = create_key(store, site_url)
    except KeyRefused as exc:
        raise click.BadParameter(str(exc), param_hint="--site") from exc
    finally:
        store.close()
    click.echo(key)
    click.echo("Only a hash of this key is kept: store it now, it cannot be shown again.",
               err=True)  # fmt: skip


@keys_cli.command("list")
@config_option
def list_keys(config_path: Path | None) -> None:
    """Show every key by its first 4 characters, with its site and state."""
    store = _open_store(config_path)
    try:
        keys = store.akismet.list_keys()
    finally:
        store.close()
    if not keys:
        click.echo("no keys yet; make one with: palabre keys create --site URL")
        return
    click.echo(f"{'KEY':<14}{'CREATED':<22}{'STATE':<10}SITE")
    for key in keys:
        state = "revoked" if key.revoked else "active"
        created = key.created.strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{key.hint + '…':<14}{created:<22}{state:<10}{key.blog}")


@keys_cli.command("revoke")
@config_option
@click.argument("key")
def revoke(config_path: Path | None, key: str) -> None:
    """Revoke KEY: every request made with it answers `invalid` from now on."""
    store = _open_store(config_path)
    try:
        revoked = revoke_key(store, key)
    except KeyRefused as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    when = revoked.revoked.strftime("%Y-%m-%d %H:%M UTC") if revoked.revoked else ""
    click.echo(f"revoked {revoked.hint}… ({revoked.blog}) since {when}")
