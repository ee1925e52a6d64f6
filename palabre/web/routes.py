"""Pages and assets: the demo article at ``/``, the widget files, the privacy page, the admin."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from palabre.privacy.retention import retention_lifespan
from palabre.web.assets import Assets
from palabre.web.demo import ARTICLE

TEMPLATES = Path(__file__).parent / "templates"
# The privacy retention job runs inside the server, hourly, from this router's lifespan.
router = APIRouter(include_in_schema=False, lifespan=retention_lifespan)

# The admin and the privacy page are ours: a strict policy. The demo page stands for a
# publisher's page, whose policy is the publisher's business, so it sets none.
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def assets() -> Assets:
    return Assets()


def render(name: str, status: int = 200, strict: bool = True, **context: Any) -> HTMLResponse:
    headers = dict(PAGE_HEADERS)
    if strict:
        headers["Content-Security-Policy"] = STRICT_CSP
        headers["X-Frame-Options"] = "DENY"
    html = environment().get_template(name).render(assets=assets(), **context)
    return HTMLResponse(html, status, headers=headers)


def _demo(uri: str | None, lang: str = "en") -> HTMLResponse:
    today = date.today()
    return render(
        "demo.html",
        strict=False,
        lang="fr" if lang == "fr" else "en",
        article=ARTICLE,
        uri=uri,
        embed_url=assets().url("embed.js"),
        today=today.strftime("%A %-d %B %Y"),
        year=today.year,
    )


@router.get("/")
def demo_page(lang: str = "en") -> HTMLResponse:
    return _demo(None, lang)


@router.get("/demo/{slug:path}")
def demo_copy(slug: str, lang: str = "en") -> HTMLResponse:
    """The same article under another path, so a visitor (or a test) gets a fresh thread;
    ``?lang=fr`` shows the widget in French (it follows the page's ``lang``)."""
    return _demo(None, lang)


@router.get("/embed.js")
def embed_js(request: Request) -> Response:
    return assets()["embed.js"].response(request)


@router.get("/embed.css")
def embed_css(request: Request) -> Response:
    return assets()["embed.css"].response(request)


@router.get("/admin.js")
def admin_js(request: Request) -> Response:
    return assets()["admin.js"].response(request, max_age=0)


@router.get("/admin.css")
def admin_css(request: Request) -> Response:
    return assets()["admin.css"].response(request, max_age=0)


@router.get("/admin")
def admin_page() -> HTMLResponse:
    return render("admin.html")


@router.get("/privacy")
def privacy_page(request: Request) -> HTMLResponse:
    from palabre.privacy.policy import policy

    return render("privacy.html", policy=policy(request.app.state.runtime.settings))
