"""Akismet API keys: how they look, how they are made, checked and revoked.

The CLI (``palabre keys``) and the tests go through these functions, so what a test proves
is what an operator gets.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from palabre.store import Store
from palabre.store.akismet import ApiKey

KEY_LENGTH = 12  # WordPress refuses other lengths, and keys double as DNS labels
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
KEY_PATTERN = re.compile(r"[a-z0-9]{12}")


class KeyRefused(ValueError):
    """A key operation was refused; the message says why."""


def new_key() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(KEY_LENGTH))


def looks_like_key(value: str) -> bool:
    return KEY_PATTERN.fullmatch(value) is not None


def valid_blog_url(url: str) -> bool:
    """A full http(s) URL with a host, as Akismet wants for ``blog``."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def create_key(store: Store, site_url: str) -> tuple[str, ApiKey]:
    """A new key for a site; the plain key is returned once and never stored."""
    site_url = site_url.strip()
    if not valid_blog_url(site_url):
        raise KeyRefused(
            f"{site_url!r} is not a site URL; give the full front-page URL, "
            "for example https://blog.example.com/"
        )
    key = new_key()
    return key, store.akismet.create_key(key, site_url)


def revoke_key(store: Store, key: str) -> ApiKey:
    key = key.strip().lower()
    if not looks_like_key(key):
        raise KeyRefused(f"{key!r} is not a key: keys are 12 characters, a-z and 0-9")
    revoked = store.akismet.revoke_key(key)
    if revoked is None:
        raise KeyRefused("no such key here (list them with `palabre keys list`)")
    return revoked
