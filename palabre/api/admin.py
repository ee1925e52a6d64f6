"""Admin JSON API: login, the moderation queue, decisions that train the filter, stats.

CSRF: the session cookie is HttpOnly and SameSite=Strict; every state-changing call must be
JSON (a cross-site form cannot send that without a preflight), and any request carrying a
foreign Origin or ``Sec-Fetch-Site: cross-site`` is refused, even from an origin the public
API's CORS policy trusts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from palabre.api.comments import client_of, require_json
from palabre.api.errors import json_response
from palabre.errors import InputError
from palabre.runtime import Runtime
from palabre.store.moderation import Search
from palabre.timeutil import isoformat, utcnow
from palabre.web import accounts

COOKIE = "palabre_admin"
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_IP = 10
MAX_FAILURES_PER_USER = 20
STATUS_OF = {"approve": "approved", "ham": "approved", "spam": "spam", "delete": "deleted"}


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def same_origin(request: Request) -> None:
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise InputError("origin", "cross-site requests to the admin are refused", status=403)
    origin = request.headers.get("origin")
    if origin is None:
        return
    allowed = {f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
    public = request.app.state.runtime.settings.public_url
    if public:
        parts = urlsplit(public)
        allowed.add(f"{parts.scheme}://{parts.netloc}".lower())
    if origin.lower() not in allowed:
        raise InputError("origin", f"{origin} may not call the admin API", status=403)


router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(same_origin)])


def current_user(request: Request, rt: RuntimeDep) -> dict[str, Any]:
    user = accounts.session_user(rt.store, request.cookies.get(COOKIE))
    if user is None:
        raise InputError("session", "sign in first", status=401)
    return user


UserDep = Annotated[dict[str, Any], Depends(current_user)]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=255)
    password: str = Field(max_length=1024)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] = Field(min_length=1, max_length=500)
    action: Literal["approve", "spam", "ham", "delete"]


def _secure(request: Request, rt: Runtime) -> bool:
    return request.url.scheme == "https" or rt.settings.public_url.startswith("https://")


@router.post("/login", dependencies=[Depends(require_json)], summary="Sign in")
def login(payload: LoginIn, request: Request, rt: RuntimeDep) -> Response:
    ip = client_of(request, rt).ip or "unknown"
    since = utcnow() - LOGIN_WINDOW
    users = rt.store.users
    if (
        users.failures_since(since, ip=ip) >= MAX_FAILURES_PER_IP
        or users.failures_since(since, username=payload.username) >= MAX_FAILURES_PER_USER
    ):
        minutes = int(LOGIN_WINDOW.total_seconds() // 60)
        raise InputError(
            "password",
            f"too many failed sign-ins; try again in {minutes} minutes",
            status=429,
            headers={"Retry-After": str(int(LOGIN_WINDOW.total_seconds()))},
        )
    user = accounts.authenticate(rt.store, payload.username, payload.password)
    users.record_attempt(ip, payload.username, user is not None)
    if user is None:
        raise InputError("password", "wrong username or password", status=401)
    token = accounts.open_session(rt.store, user["id"])
    response = json_response({"username": user["username"], "role": user["role"]})
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=_secure(request, rt),
        samesite="strict",
        path="/",
    )
    return response


@router.post("/logout", summary="Sign out")
def logout(request: Request, rt: RuntimeDep) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        rt.store.users.delete_session(accounts.token_hash(token))
    response = json_response({"signed_out": True})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/me", summary="Who is signed in (user is null when nobody is)")
def me(request: Request, rt: RuntimeDep) -> Response:
    user = accounts.session_user(rt.store, request.cookies.get(COOKIE))
    if user is None:
        return json_response({"user": None})
    return json_response({"user": {"username": user["username"], "role": user["role"]}})


def admin_comment(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "parent": row["parent_id"],
        "status": row["status"],
        "author": row["author"],
        "email": row["email"],
        "website": row["website"],
        "ip": row["ip"],
        "user_agent": row["user_agent"],
        "text": row["text"],
        "html": row["html"],
        "created": isoformat(row["created"]),
        "edited": isoformat(row["edited"]),
        "votes": row["votes"],
        "spam": {
            "score": row["spam_score"],
            "class": row["spam_class"],
            "reasons": row["spam_reasons"] or [],
        },
        "thread": {"id": row["thread_id"], "uri": row["uri"], "title": row["title"]},
    }


@router.get("/comments", summary="The moderation queue, filtered and searched")
def queue(
    rt: RuntimeDep,
    _user: UserDep,
    status: Literal["approved", "pending", "spam", "deleted", "all"] = "pending",
    q: Annotated[str, Query(max_length=512)] = "",
    field: Literal["all", "text", "author", "email", "ip", "thread"] = "all",
    thread: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    rows, total = rt.store.moderation.queue(
        status=None if status == "all" else status,
        search=Search(q, field),
        thread_id=thread,
        limit=limit,
        offset=offset,
    )
    return json_response(
        {
            "comments": [admin_comment(r) for r in rows],
            "total": total,
            "counts": rt.store.moderation.status_counts(),
        }
    )


@router.post(
    "/comments/action",
    dependencies=[Depends(require_json)],
    summary="Approve, mark spam, mark not spam or delete comments; spam/ham decisions train "
    "the filter at once",
)
def act(payload: ActionIn, rt: RuntimeDep, user: UserDep) -> Response:
    rows = rt.store.moderation.for_decision(payload.ids)
    changed = rt.store.comments.set_status([r["id"] for r in rows], STATUS_OF[payload.action])
    learned = 0
    for row in rows:
        is_spam: bool | None = None
        if payload.action == "spam" and row["status"] != "spam":
            is_spam = True
        elif payload.action == "ham" or (payload.action == "approve" and row["status"] == "spam"):
            is_spam = False
        if is_spam is None or not row["spam_record"]:
            continue
        rt.spam.learn(
            row["site_id"],
            row["spam_record"],
            is_spam,
            source="moderator",
            actor=user["username"],
            comment_id=row["id"],
        )
        learned += 1
    return json_response({"changed": changed, "learned": learned})


@router.get("/threads", summary="Threads with comment counts per status")
def threads(
    rt: RuntimeDep, _user: UserDep, q: Annotated[str, Query(max_length=512)] = ""
) -> Response:
    rows = rt.store.moderation.threads(q)
    for row in rows:
        row["last_comment"] = isoformat(row["last_comment"])
    return json_response({"threads": rows})


@router.get("/threads/{thread_id}", summary="Every comment of one thread, any status")
def thread_view(thread_id: int, rt: RuntimeDep, _user: UserDep) -> Response:
    found = rt.store.moderation.thread(thread_id)
    if found is None:
        raise InputError("thread", f"thread {thread_id} does not exist", status=404)
    rows, total = rt.store.moderation.queue(thread_id=thread_id, limit=1000)
    return json_response(
        {
            "thread": {"id": found["id"], "uri": found["uri"], "title": found["title"]},
            "comments": [admin_comment(r) for r in rows],
            "total": total,
        }
    )


@router.get("/stats", summary="Comments received and spam caught per day")
def stats(
    rt: RuntimeDep, _user: UserDep, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> Response:
    return json_response(
        {"days": rt.store.moderation.per_day(days), "counts": rt.store.moderation.status_counts()}
    )
