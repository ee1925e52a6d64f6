"""Atom feeds: one per thread and one of the site's latest comments."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from palabre.api.comments import RuntimeDep
from palabre.comments import normalise_uri
from palabre.errors import InputError
from palabre.timeutil import isoformat, utcnow

router = APIRouter(prefix="/feed", tags=["feeds"])
ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50


def _atom(title: str, self_url: str, page_url: str, rows: list[dict[str, Any]]) -> bytes:
    # ElementTree escapes every text node, so comment HTML travels as escaped text.
    feed = ET.Element("feed", xmlns=ATOM)
    ET.SubElement(feed, "title").text = title
    ET.SubElement(feed, "id").text = self_url
    ET.SubElement(feed, "link", rel="self", href=self_url)
    ET.SubElement(feed, "link", rel="alternate", href=page_url)
    newest = rows[0]["created"] if rows else utcnow()
    ET.SubElement(feed, "updated").text = isoformat(newest)
    for row in rows:
        entry = ET.SubElement(feed, "entry")
        link = f"{row['_page']}#palabre-comment-{row['id']}"
        ET.SubElement(entry, "id").text = link
        ET.SubElement(entry, "title").text = f"{row['author']} on {row['_title']}"
        ET.SubElement(entry, "link", rel="alternate", href=link)
        ET.SubElement(entry, "updated").text = isoformat(row["edited"] or row["created"])
        ET.SubElement(entry, "published").text = isoformat(row["created"])
        author = ET.SubElement(entry, "author")
        ET.SubElement(author, "name").text = row["author"] or "anonymous"
        ET.SubElement(entry, "content", type="html").text = row["html"]
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


def _page_url(request: Request, origins: list[str], uri: str) -> str:
    base = origins[0] if origins else str(request.base_url).rstrip("/")
    return base + uri


def _feed_response(body: bytes) -> Response:
    return Response(
        body,
        media_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": "public, max-age=60"},
    )


@router.get("/thread.atom", summary="Atom feed of one page's comments")
def thread_feed(
    rt: RuntimeDep, request: Request, uri: Annotated[str, Query(max_length=2048)]
) -> Response:
    site = rt.site_for(request.headers.get("origin"), uri)
    path = normalise_uri(uri, site)
    site_id = rt.site_id(site.name)
    thread = rt.store.comments.find_thread(site_id, path)
    if thread is None:
        raise InputError("uri", "this page has no comments yet", status=404)
    rows = rt.store.comments.latest(site_id, FEED_SIZE, thread_id=thread["id"])
    page = _page_url(request, site.origins, path)
    title = thread["title"] or path
    for row in rows:
        row |= {"_page": page, "_title": title}
    return _feed_response(_atom(f"Comments on {title}", str(request.url), page, rows))


@router.get("/latest.atom", summary="Atom feed of the site's latest comments")
def latest_feed(rt: RuntimeDep, request: Request) -> Response:
    site = rt.site_for(request.headers.get("origin"))
    rows = rt.store.comments.latest(rt.site_id(site.name), FEED_SIZE)
    for row in rows:
        row |= {
            "_page": _page_url(request, site.origins, row["uri"]),
            "_title": row["title"] or row["uri"],
        }
    home = _page_url(request, site.origins, "/")
    return _feed_response(
        _atom(f"Latest comments on {site.title or site.name}", str(request.url), home, rows)
    )
