"""``palabre admin``: moderator and admin accounts."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from palabre.cli_common import config_option, open_store, settings_from
from palabre.store import Store


def _store(config_path: Path | None) -> Store:
    return open_store(settings_from(config_path))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)


@click.group("admin")
def admin_cli() -> None:
    """Accounts for the /admin moderation pages."""


@admin_cli.command("create-user")
@config_option
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "moderator"]), default="admin",
              show_default=True)  # fmt: skip
@stdin_option
def create_user(config_path: Path | None, username: str, role: str, password_stdin: bool) -> None:
    """Create an account (the password is stored as an argon2id hash)."""
    from palabre.web.accounts import AccountError, create_user

    store = _store(config_path)
    try:
        create_user(store, username, _password(password_stdin), role)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"created {role} {username!r}; sign in at /admin")


@admin_cli.command("set-password")
@config_option
@click.argument("username")
@stdin_option
def set_password(config_path: Path | None, username: str, password_stdin: bool) -> None:
    """Change an account's password (ends its open sessions)."""
    from palabre.web.accounts import AccountError, hash_password

    store = _store(config_path)
    try:
        if not store.users.set_password(username, hash_password(_password(password_stdin))):
            raise click.ClickException(f"no user {username!r}")
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"password changed for {username!r}")


@admin_cli.command("list-users")
@config_option
def list_users(config_path: Path | None) -> None:
    """List accounts."""
    store = _store(config_path)
    try:
        for row in store.users.list():
            click.echo(f"{row['username']}\t{row['role']}\t{row['created']:%Y-%m-%d}")
    finally:
        store.close()
