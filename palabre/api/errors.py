"""Every failure leaves as ``{"error": {"field", "message"}}`` with a 4xx status."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from palabre.errors import InputError


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """orjson straight to bytes: the hot read paths skip FastAPI's response-model work."""
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


def error_response(
    field: str, message: str, status: int, headers: dict[str, str] | None = None
) -> Response:
    return json_response({"error": {"field": field, "message": message}}, status, headers)


def _field_of(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
    return ".".join(location) or "body"


def _message_of(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "is not valid JSON"
    if kind == "missing":
        return "is required"
    if kind == "model_attributes_type" or kind == "dict_type":
        return "must be a JSON object"
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


async def _on_validation(_request: Request, exc: RequestValidationError) -> Response:
    first = exc.errors()[0] if exc.errors() else {}
    status = 400 if first.get("type") == "json_invalid" else 422
    return error_response(_field_of(first), _message_of(first), status)


async def _on_input(_request: Request, exc: InputError) -> Response:
    return error_response(exc.field, exc.message, exc.status, exc.headers)


async def _on_http(_request: Request, exc: StarletteHTTPException) -> Response:
    field = "path" if exc.status_code in (404, 405) else "request"
    return error_response(field, str(exc.detail).lower(), exc.status_code, exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(InputError, _on_input)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]
