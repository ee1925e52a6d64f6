"""Public comment API: thin translation between HTTP/JSON and ``palabre.comments``."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from palabre.api.errors import json_response
from palabre.comments import Client, CommentInput, normalise_uri, public_comment
from palabre.errors import InputError
from palabre.runtime import Runtime
from palabre.timeutil import isoformat

router = APIRouter(prefix="/api", tags=["comments"])
READER_COOKIE = "palabre_reader"


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uri: str = Field(max_length=2048, description="page path, or full URL on a site origin")
    title: str | None = Field(default=None, max_length=2048)
    parent: int | None = Field(default=None, ge=1)
    author: str = Field(max_length=2048)
    email: str | None = Field(default=None, max_length=2048)
    website: str | None = Field(default=None, max_length=2048)
    text: str = Field(max_length=1_000_000)
    honeypot: str | None = Field(default=None, max_length=2048, description="must stay empty")
    form_token: str | None = Field(default=None, max_length=256)
    language: str | None = Field(default=None, max_length=35)


class CommentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=1_000_000)
    author: str | None = Field(default=None, max_length=2048)
    website: str | None = Field(default=None, max_length=2048)


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Literal[1, -1]


class CommentOut(BaseModel):
    id: int
    parent: int | None
    author: str
    website: str | None
    avatar: str = Field(description="keyed hash for a locally drawn avatar; never the e-mail")
    html: str = Field(description="rendered, sanitised HTML")
    created: str
    edited: str | None
    votes: int
    deleted: bool
    reply_count: int
    replies: list[CommentOut]


class ThreadOut(BaseModel):
    config: dict[str, Any]
    thread: dict[str, Any]
    comments: list[CommentOut]
    next: str | None = Field(description="cursor for the next page, or null")


class PostedOut(CommentOut):
    status: Literal["approved", "pending", "spam"]
    edit_token: str
    edit_until: str


async def runtime(request: Request) -> Runtime:
    # async: a sync dependency costs a thread-pool round trip on every request.
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime)]


async def require_json(content_type: Annotated[str | None, Header()] = None) -> None:
    """JSON only: a cross-site form cannot send it without a CORS preflight (CSRF)."""
    if not content_type or content_type.split(";")[0].strip().lower() != "application/json":
        raise InputError("content-type", "must be application/json", status=415)


def client_of(request: Request, rt: Runtime) -> Client:
    ip = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for")
    if rt.settings.trust_proxy_headers and forwarded:
        ip = forwarded.split(",")[0].strip()
    return Client(
        ip=ip,
        user_agent=request.headers.get("user-agent"),
        referrer=request.headers.get("referer"),
        origin=request.headers.get("origin"),
    )


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


# The two read endpoints are async: on the event loop, their work (a version-checked cache
# hit, or a few indexed queries) costs less than the thread-pool round trip a sync endpoint
# pays on every request (bench/RESULTS.md, "Profile").
@router.get("/comments", response_model=ThreadOut, summary="Approved comments of a page")
async def list_comments(
    rt: RuntimeDep,
    request: Request,
    uri: Annotated[str, Query(max_length=2048)],
    sort: Literal["oldest", "newest", "top"] = "oldest",
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    after: Annotated[str | None, Query(max_length=512, description="cursor")] = None,
) -> Response:
    site = rt.site_for(request.headers.get("origin"), uri)
    path = normalise_uri(uri, site)
    body = rt.comments.thread_json(rt.site_id(site.name), path, sort, limit, after)
    return Response(body, media_type="application/json")


@router.post(
    "/comments",
    status_code=201,
    response_model=PostedOut,
    responses={202: {"description": "held for moderation; shown to its author only"}},
    dependencies=[Depends(require_json)],
    summary="Post a comment",
)
async def post_comment(payload: CommentIn, rt: RuntimeDep, request: Request) -> Response:
    client = client_of(request, rt)
    site = rt.site_for(client.origin, payload.uri)
    data = CommentInput(**payload.model_dump())
    if rt.reads_inline:
        # SQLite: validate, filter, render and write on the event loop, which never waits
        # for the writer lock (see palabre.loop_writes).
        draft = rt.comments.draft(site, data, client)
        posted = await rt.loop_writer.write(
            lambda: rt.comments.save(draft, wait=False), lambda: rt.comments.save(draft)
        )
    else:
        posted = await run_in_threadpool(rt.comments.post, site, data, client)
    body = public_comment(posted.comment)
    window = rt.settings.comments.edit_window
    body |= {
        "status": posted.status,
        "edit_token": posted.edit_token,
        "edit_until": isoformat(posted.comment["created"] + timedelta(seconds=window)),
    }
    return json_response(body, 201 if posted.status == "approved" else 202)


@router.patch(
    "/comments/{comment_id}",
    response_model=CommentOut,
    dependencies=[Depends(require_json)],
    summary="Edit your comment within the edit window",
)
def edit_comment(
    comment_id: int,
    payload: CommentEdit,
    rt: RuntimeDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    row = rt.comments.edit(
        comment_id, bearer(authorization), payload.text, payload.author, payload.website
    )
    return json_response(public_comment(row))


@router.delete("/comments/{comment_id}", summary="Delete your comment within the edit window")
def delete_comment(
    comment_id: int,
    rt: RuntimeDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    rt.comments.delete(comment_id, bearer(authorization))
    return json_response({"id": comment_id, "deleted": True})


@router.post(
    "/comments/{comment_id}/vote",
    dependencies=[Depends(require_json)],
    summary="Vote a comment up (1) or down (-1); one vote per reader",
)
def vote_comment(comment_id: int, payload: VoteIn, rt: RuntimeDep, request: Request) -> Response:
    reader = request.cookies.get(READER_COOKIE)
    fresh = not reader or len(reader) > 64
    if fresh:
        reader = secrets.token_urlsafe(24)
    assert reader is not None
    votes = rt.comments.vote(comment_id, reader, payload.value)
    response = json_response({"id": comment_id, "votes": votes})
    if fresh:
        secure = request.url.scheme == "https"
        response.set_cookie(
            READER_COOKIE,
            reader,
            max_age=365 * 24 * 3600,
            httponly=True,
            secure=secure,
            # Cross-site embeds need SameSite=None, which browsers accept only with Secure.
            samesite="none" if secure else "lax",
            path="/api",
        )
    return response


@router.get("/counts", summary="Approved comment counts for several pages, in one query")
async def counts(
    rt: RuntimeDep,
    request: Request,
    uri: Annotated[list[str], Query(max_length=200)],
) -> Response:
    site = rt.site_for(request.headers.get("origin"), uri[0] if uri else None)
    paths = {raw: normalise_uri(raw, site) for raw in uri}
    found = rt.store.comments.counts(rt.site_id(site.name), list(set(paths.values())))
    return json_response({raw: found[path] for raw, path in paths.items()})
