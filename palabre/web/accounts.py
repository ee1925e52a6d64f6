"""Admin accounts: argon2id password hashes and session tokens (stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from palabre.store import Store
from palabre.store.users import UserExists
from palabre.timeutil import utcnow

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 10
ROLES = ("admin", "moderator")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user does not exist, so timing does not reveal valid names.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(Exception):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def create_user(store: Store, username: str, password: str, role: str = "admin") -> int:
    username = username.strip()
    if not username or len(username) > 255 or any(c.isspace() for c in username):
        raise AccountError("the username must be 1 to 255 characters without spaces")
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    try:
        return store.users.create(username, hash_password(password), role)
    except UserExists as exc:
        raise AccountError(f"user {username!r} already exists") from exc


def authenticate(store: Store, username: str, password: str) -> dict[str, Any] | None:
    row = store.users.by_username(username)
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(row["password_hash"]):
        store.users.set_password(username, _hasher.hash(password))
    return row


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(store: Store, user_id: int) -> str:
    token = secrets.token_urlsafe(32)
    store.users.create_session(token_hash(token), user_id, utcnow() + SESSION_LIFETIME)
    return token


def session_user(store: Store, token: str | None) -> dict[str, Any] | None:
    if not token or len(token) > 128:
        return None
    return store.users.session_user(token_hash(token))
