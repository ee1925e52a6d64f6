"""HTTP layer of the Akismet-compatible API: read parameters, call the service, send text.

Every endpoint takes GET or POST (query string and form body merged, the body winning), so
clients that differ in how they send the key or the fields all get a protocol answer.

On SQLite, comment-check runs on the event loop itself: it only reads (a cached key, the
filter, and the spam-event high-water mark; its log is written behind, see ``checklog``),
SQLite reads in WAL mode never wait, and skipping the thread-pool hop measured 10-20% more
throughput and a shorter tail at 16 concurrent clients. On PostgreSQL those reads wait on
the network, so they go to the thread pool where waits overlap, like the other endpoints
(which write and may wait on a lock).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from palabre.akismet.checklog import flush_all
from palabre.akismet.protocol import AkismetService, Answer, Params, invalid, parse_form

router = APIRouter(tags=["akismet"], on_shutdown=[flush_all])
FORM_TYPES = frozenset({"", "application/x-www-form-urlencoded", "text/plain"})
METHODS = ["POST", "GET"]  # in the order routes are tried: clients mostly POST
Endpoint = Callable[[Request], Awaitable[Response]]


class NotForm(Exception):
    pass


def service_of(request: Request) -> AkismetService:
    state = request.app.state
    service = getattr(state, "akismet", None)
    if service is None:
        service = state.akismet = AkismetService(state.runtime)
    return service


async def read_params(request: Request) -> Params:
    query = request.scope.get("query_string", b"").decode("latin-1")
    pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=2000) if query else []
    if request.method != "POST":
        return Params(pairs)
    content_type = request.headers.get("content-type", "")
    mime, _, options = content_type.partition(";")
    mime = mime.strip().lower()
    charset = "utf-8"
    for option in options.split(";"):
        name, _, value = option.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"').strip()
    if mime in FORM_TYPES:
        body = await request.body()
        if body:
            pairs.extend(parse_form(body, charset))
    elif mime == "multipart/form-data":
        try:
            form = await request.form(max_files=0, max_fields=2000)
        except Exception as exc:  # starlette raises HTTPException(400) for a broken body
            raise ValueError("unreadable multipart body") from exc
        pairs.extend((name, value) for name, value in form.multi_items() if isinstance(value, str))
    else:
        raise NotForm(mime)
    return Params(pairs)


def send(answer: Answer) -> Response:
    return Response(answer.body, 200, answer.headers, media_type=answer.media_type)


async def handle(
    request: Request,
    action: Callable[[AkismetService, Params, str | None], Answer],
    inline: bool = False,
) -> Response:
    try:
        params = await read_params(request)
    except NotForm as exc:
        return send(invalid(f"Send the fields as application/x-www-form-urlencoded, not {exc}"))
    except ValueError:  # too many fields, or a multipart body that does not parse
        return send(invalid("The request body could not be read as form fields"))
    service = service_of(request)
    host = request.headers.get("host")
    if inline:
        return send(action(service, params, host))
    return send(await run_in_threadpool(action, service, params, host))


def endpoint(path: str, summary: str) -> Callable[[Endpoint], Endpoint]:
    """One route per method, so each gets its own OpenAPI operation id."""

    def register(function: Endpoint) -> Endpoint:
        for method in METHODS:
            router.add_api_route(
                path,
                function,
                methods=[method],
                summary=summary,
                name=f"{function.__name__}_{method.lower()}",
            )
        return function

    return register


# First: the route tried first is the one matched fastest, and checks are the traffic.
@endpoint("/1.1/comment-check", "Akismet: is this spam?")
async def comment_check(request: Request) -> Response:
    inline = request.app.state.runtime.reads_inline
    return await handle(request, lambda s, p, h: s.comment_check(p, h), inline=inline)


@endpoint("/1.1/verify-key", "Akismet: is this key valid?")
async def verify_key(request: Request) -> Response:
    return await handle(request, lambda s, p, h: s.verify_key(p, h))


@endpoint("/1.1/submit-spam", "Akismet: this was spam")
async def submit_spam(request: Request) -> Response:
    guid = request.headers.get("x-akismet-guid")
    return await handle(request, lambda s, p, h: s.submit(p, h, True, guid))


@endpoint("/1.1/submit-ham", "Akismet: this was not spam")
async def submit_ham(request: Request) -> Response:
    guid = request.headers.get("x-akismet-guid")
    return await handle(request, lambda s, p, h: s.submit(p, h, False, guid))


@endpoint("/1.2/usage-limit", "Akismet: this month's usage")
async def usage_limit(request: Request) -> Response:
    return await handle(request, lambda s, p, h: s.usage_limit(p, h))


@endpoint("/1.2/key-sites", "Akismet: usage per site")
async def key_sites(request: Request) -> Response:
    return await handle(request, lambda s, p, h: s.key_sites(p, h))
