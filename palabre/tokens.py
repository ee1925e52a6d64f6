"""Signed tokens (itsdangerous) and keyed hashes: edit rights, form timing, voters, avatars."""

from __future__ import annotations

import hashlib
import hmac
import time

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner


class TokenError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Tokens:
    def __init__(self, signing_key: str, avatar_salt: str) -> None:
        # A signed, timestamped comment id: a serializer's JSON and compression steps tripled
        # the cost of every post's token for a payload that is one integer.
        self._edit = TimestampSigner(signing_key, salt="palabre.edit")
        self._form = TimestampSigner(signing_key, salt="palabre.form")
        self._key = signing_key.encode()
        self._avatar_salt = avatar_salt.encode()

    def edit_token(self, comment_id: int) -> str:
        return self._edit.sign(str(comment_id)).decode()

    def check_edit_token(self, token: str, comment_id: int, window_seconds: int) -> None:
        """Raise TokenError unless the token grants editing this comment right now."""
        try:
            granted = self._edit.unsign(token, max_age=window_seconds)
        except SignatureExpired as exc:
            raise TokenError("the edit window for this comment has closed") from exc
        except BadSignature as exc:
            raise TokenError("the edit token is not valid") from exc
        if granted != str(comment_id).encode():
            raise TokenError("the edit token belongs to another comment")

    def form_token(self) -> str:
        return self._form.sign(b"form").decode()

    def seconds_since_form(self, token: str | None) -> float | None:
        """Time from form display to submit; None when the token is absent or forged."""
        if not token:
            return None
        try:
            _, issued = self._form.unsign(token, return_timestamp=True)
        except BadSignature:
            return None
        return max(0.0, time.time() - issued.timestamp())

    def voter_id(self, reader: str) -> str:
        return hmac.new(self._key, b"voter:" + reader.encode(), hashlib.sha256).hexdigest()[:40]

    def avatar_hash(self, email: str | None, author: str, ip: str | None) -> str:
        """Stable per commenter, keyed so the e-mail cannot be recovered by guessing."""
        seed = (email or "").strip().lower() or f"{author}\x00{ip or ''}"
        return hmac.new(self._avatar_salt, seed.encode(), hashlib.sha256).hexdigest()[:32]
