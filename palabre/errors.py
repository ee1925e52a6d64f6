"""The one error type the HTTP layer turns into ``{"error": {"field", "message"}}``."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a client; nothing was written."""

    def __init__(
        self,
        field: str,
        message: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"field": self.field, "message": self.message}}
