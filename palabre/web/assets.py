"""Static assets served from memory: gzipped once, content-hashed, cached for a year.

The widget's URL (``/embed.js``) is fixed in publishers' pages, so it is served with a short
max-age and an ETag; requested with ``?v=<hash>`` (as the demo page and the widget itself do
for the stylesheet) it is immutable and cached for a year.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

STATIC = Path(__file__).parent / "static"
YEAR = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    version: str  # first 12 hex digits of the content's SHA-256

    @classmethod
    def build(cls, body: bytes, media_type: str) -> Asset:
        return cls(
            body=body,
            gzipped=gzip.compress(body, compresslevel=9, mtime=0),
            media_type=media_type,
            version=hashlib.sha256(body).hexdigest()[:12],
        )

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    def response(self, request: Request, max_age: int = 3600) -> Response:
        immutable = request.query_params.get("v") == self.version
        headers = {
            "ETag": self.etag,
            "Cache-Control": f"public, max-age={YEAR}, immutable"
            if immutable
            else f"public, max-age={max_age}, stale-while-revalidate=86400",
            "Vary": "Accept-Encoding",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "X-Content-Type-Options": "nosniff",
        }
        if self.etag in {
            tag.strip() for tag in request.headers.get("if-none-match", "").split(",")
        }:
            return Response(status_code=304, headers=headers)
        accepts = request.headers.get("accept-encoding", "").lower()
        if "gzip" in accepts:
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.media_type, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)


class Assets:
    """The widget and admin assets; the widget's script learns its stylesheet's version."""

    def __init__(self, directory: Path = STATIC) -> None:
        def read(name: str) -> bytes:
            return (directory / name).read_bytes()

        css = Asset.build(read("embed.css"), "text/css; charset=utf-8")
        js_source = read("embed.js").replace(
            b"__PALABRE_CSS__", f"embed.css?v={css.version}".encode()
        )
        self.items: dict[str, Asset] = {
            "embed.css": css,
            "embed.js": Asset.build(js_source, "text/javascript; charset=utf-8"),
        }
        for name, media in (("admin.js", "text/javascript"), ("admin.css", "text/css")):
            if (directory / name).exists():
                self.items[name] = Asset.build(read(name), f"{media}; charset=utf-8")

    def __getitem__(self, name: str) -> Asset:
        return self.items[name]

    def url(self, name: str) -> str:
        return f"/{name}?v={self.items[name].version}"

    def widget_gzipped_bytes(self) -> int:
        return len(self.items["embed.js"].gzipped) + len(self.items["embed.css"].gzipped)
