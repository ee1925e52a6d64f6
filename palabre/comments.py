"""The life of a comment: validate, render, ask the spam filter, decide, store.

The HTTP layer calls these functions and only translates to and from JSON.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson

from palabre.config import SiteConfig
from palabre.errors import InputError
from palabre.render import clean_text, render_markdown
from palabre.spam import CommentRecord, Verdict
from palabre.store import NewComment, StoreError
from palabre.store.comments import Sort, decode_cursor
from palabre.timeutil import isoformat, utcnow

# "scheme:" not followed by a port number, as in "javascript:alert(1)".
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d)", re.IGNORECASE)
MAX_URI = 1024
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class Client:
    """What the request tells about the reader, for the filter and the rate limit."""

    ip: str | None
    user_agent: str | None
    referrer: str | None
    origin: str | None


@dataclass(frozen=True, slots=True)
class CommentInput:
    uri: str
    author: str
    text: str
    title: str = ""
    parent: int | None = None
    email: str | None = None
    website: str | None = None
    honeypot: str | None = None
    form_token: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    """A checked, rendered comment with its verdict, ready to be stored."""

    site_id: int
    uri: str
    title: str
    comment: NewComment
    verdict: Verdict | None


@dataclass(frozen=True, slots=True)
class Posted:
    comment: dict[str, Any]
    status: str
    edit_token: str
    verdict: Verdict | None


def normalise_uri(raw: str, site: SiteConfig) -> str:
    """A page path, from either '/path' or a full URL on one of the site's origins."""
    raw = raw.strip()
    if not raw:
        raise InputError("uri", "is required: the path of the page being commented on")
    if len(raw) > MAX_URI:
        raise InputError("uri", f"is longer than {MAX_URI} characters")
    try:
        parts = urlsplit(raw)
    except ValueError as exc:  # e.g. an unbalanced "[" in the host part
        raise InputError("uri", "is not a valid path or URL") from exc
    if parts.scheme or parts.netloc:
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if origin not in site.origins:
            raise InputError("uri", f"{origin} is not one of this site's origins", status=403)
    path = parts.path or "/"
    if not path.startswith("/"):
        raise InputError("uri", "must be a path starting with '/' or a full URL")
    return path + (f"?{parts.query}" if parts.query else "")


def normalise_website(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    problem = "must be an http(s) address such as https://example.com"
    if "://" not in url:
        if _OTHER_SCHEME.match(url):  # javascript:, data:, mailto: ... never a website
            raise InputError("website", problem)
        url = "https://" + url
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        _ = parts.port  # raises for a port that is not a number
    except ValueError as exc:  # urlsplit refuses malformed hosts such as "[x"
        raise InputError("website", problem) from exc
    if parts.scheme not in ("http", "https") or not hostname or any(c.isspace() for c in url):
        raise InputError("website", problem)
    if len(url) > 1024:
        raise InputError("website", "is longer than 1024 characters")
    return url


def _clean_author(raw: str, limit: int) -> str:
    author = " ".join(clean_text(raw).split())
    if not author:
        raise InputError("author", "is required: the name shown with the comment")
    if len(author) > limit:
        raise InputError("author", f"is longer than {limit} characters")
    return author


def _clean_email(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    email = raw.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 320 or any(c.isspace() for c in email):
        raise InputError("email", "is not an e-mail address")
    return email


def _clean_body(raw: str, limit: int) -> str:
    text = clean_text(raw).strip()
    if not text:
        raise InputError("text", "is required: the comment cannot be empty")
    if len(text) > limit:
        raise InputError("text", f"is longer than {limit} characters ({len(text)})")
    return text


class ThreadCache:
    """Serialised thread pages keyed by the thread's version: a write bumps the version,
    so a stale entry is never served, on any instance, without cross-process signalling."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def public_comment(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON a reader may see: never the e-mail, the IP or the spam details."""
    deleted = row["status"] == "deleted"
    replies = [public_comment(reply) for reply in row.get("replies", ())]
    return {
        "id": row["id"],
        "parent": row["parent_id"],
        "author": "" if deleted else row["author"],
        "website": None if deleted else row["website"],
        "avatar": "" if deleted else row["avatar"],
        "html": "" if deleted else row["html"],
        "created": isoformat(row["created"]),
        "edited": isoformat(row["edited"]),
        "votes": row["votes"],
        "deleted": deleted,
        "reply_count": len(replies),
        "replies": replies,
    }


class CommentService:
    def __init__(self, runtime: Any) -> None:  # palabre.runtime.Runtime (avoids an import cycle)
        self.rt = runtime
        self.cache = ThreadCache()

    @property
    def limits(self) -> Any:
        return self.rt.settings.comments

    # -- reading -----------------------------------------------------------------------

    def thread_json(
        self, site_id: int, uri: str, sort: Sort, limit: int | None, cursor: str | None
    ) -> bytes:
        """The serialised page; the form token is spliced in fresh on every request."""
        size = limit or self.limits.default_page_size
        if not 1 <= size <= MAX_PAGE:
            raise InputError("limit", f"must be between 1 and {MAX_PAGE}")
        after = None
        if cursor:
            try:
                after = decode_cursor(cursor, sort)
            except ValueError as exc:
                raise InputError("after", str(exc)) from exc
        store = self.rt.store.comments
        row = store.find_thread(site_id, uri)
        if row is None:
            body = orjson.dumps(
                {
                    "thread": {"id": None, "uri": uri, "title": None, "count": 0},
                    "comments": [],
                    "next": None,
                }
            )
        else:
            key = (row["id"], row["version"], sort, size, cursor)
            body = self.cache.get(key)
            if body is None:
                page = store.thread_page(row, sort, size, after)
                count = store.counts(site_id, [uri])[uri]
                thread = {"id": row["id"], "uri": uri, "title": row["title"], "count": count}
                body = orjson.dumps(
                    {
                        "thread": thread,
                        "comments": [public_comment(c) for c in page.comments],
                        "next": page.next_cursor,
                    }
                )
                self.cache.put(key, body)
        config = {
            "edit_window": self.limits.edit_window,
            "max_length": self.limits.max_length,
            "form_token": self.rt.tokens.form_token(),
        }
        return b'{"config":' + orjson.dumps(config) + b"," + body[1:]

    # -- writing -----------------------------------------------------------------------

    def _rate_limit(self, ip: str | None) -> None:
        per_minute = self.limits.rate_limit_per_minute
        if not per_minute or not ip:
            return
        now = utcnow()
        count, oldest = self.rt.store.comments.recent_comments_from_ip(
            ip, now - timedelta(minutes=1)
        )
        if count >= per_minute:
            wait = 60 - int((now - oldest).total_seconds()) if oldest else 60
            raise InputError(
                "ip",
                f"too many comments from your address; try again in {max(wait, 1)} seconds",
                status=429,
                headers={"Retry-After": str(max(wait, 1))},
            )

    def _initial_status(
        self, site: SiteConfig, site_id: int, email: str | None, verdict: Verdict | None
    ) -> str:
        if verdict is not None and verdict.klass in ("spam", "discard"):
            return "spam"
        if verdict is not None and verdict.klass == "unsure":
            return "pending"
        if site.moderation == "all":
            return "pending"
        if site.moderation == "first-comment":
            trusted = email and self.rt.store.comments.email_has_approved_comment(site_id, email)
            return "approved" if trusted else "pending"
        return "approved"

    def post(self, site: SiteConfig, data: CommentInput, client: Client) -> Posted:
        return self.save(self.draft(site, data, client))

    def draft(self, site: SiteConfig, data: CommentInput, client: Client) -> Draft:
        """Everything before the write: validate, rate-limit, ask the filter, render.

        On SQLite the HTTP layer runs this and ``save`` on the event loop (see
        palabre.loop_writes): with one thread per concurrent post, the filter's CPU work
        fought over the GIL."""
        uri = normalise_uri(data.uri, site)
        author = _clean_author(data.author, self.limits.max_author_length)
        email = _clean_email(data.email)
        website = normalise_website(data.website)
        text = _clean_body(data.text, self.limits.max_length)
        title = " ".join(clean_text(data.title or "").split())[:512]
        self._rate_limit(client.ip)
        site_id = self.rt.site_id(site.name)
        record = CommentRecord(
            text=text,
            author=author,
            email=email,
            website=website,
            ip=client.ip,
            user_agent=client.user_agent,
            referrer=client.referrer,
            # The page's full address: the filter ignores links to the page itself.
            permalink=site.origins[0] + uri,
            language=data.language,
            seconds_to_submit=self.rt.tokens.seconds_since_form(data.form_token),
            honeypot=data.honeypot or None,
            is_reply=data.parent is not None,
        )
        verdict = self.rt.spam.check(site_id, record) if self.rt.settings.spam.enabled else None
        new = NewComment(
            author=author,
            text=text,
            html=render_markdown(text),
            status=self._initial_status(site, site_id, email, verdict),
            parent_id=data.parent,
            email=email,
            avatar=self.rt.tokens.avatar_hash(email, author, client.ip),
            website=website,
            ip=client.ip,
            user_agent=(client.user_agent or "")[:512] or None,
            spam_score=verdict.score if verdict else None,
            spam_class=verdict.klass if verdict else None,
            spam_reasons=verdict.to_dict()["reasons"] if verdict else None,
            spam_record=self.rt.record_json(record),
        )
        return Draft(site_id, uri, title, new, verdict)

    def save(self, draft: Draft, *, wait: bool = True) -> Posted:
        """Write the drafted comment. ``wait=False`` raises WriterBusy (nothing written)
        when SQLite's writer lock is taken, instead of waiting for it."""
        try:
            row = self.rt.store.comments.create_comment(
                draft.site_id, draft.uri, draft.title, draft.comment, wait=wait
            )
        except StoreError as exc:
            raise InputError(exc.field, exc.message) from exc
        return Posted(row, row["status"], self.rt.tokens.edit_token(row["id"]), draft.verdict)

    def _owned(self, comment_id: int, token: str | None) -> dict[str, Any]:
        if not token:
            raise InputError(
                "token", "an edit token is required (Authorization: Bearer ...)", status=401
            )
        row = self.rt.store.comments.get(comment_id)
        if row is None or row["status"] == "deleted":
            raise InputError("id", f"comment {comment_id} does not exist", status=404)
        from palabre.tokens import TokenError

        try:
            self.rt.tokens.check_edit_token(token, comment_id, self.limits.edit_window)
        except TokenError as exc:
            raise InputError("token", exc.message, status=403) from exc
        return row

    def edit(
        self, comment_id: int, token: str | None, text: str, author: str | None, website: str | None
    ) -> dict[str, Any]:
        self._owned(comment_id, token)
        body = _clean_body(text, self.limits.max_length)
        new_author = (
            None if author is None else _clean_author(author, self.limits.max_author_length)
        )
        new_website = None if website is None else (normalise_website(website) or "")
        return self.rt.store.comments.update_comment(
            comment_id,
            text=body,
            html=render_markdown(body),
            author=new_author,
            website=new_website,
        )

    def delete(self, comment_id: int, token: str | None) -> None:
        self._owned(comment_id, token)
        self.rt.store.comments.delete_comment(comment_id, scrub=True)

    def vote(self, comment_id: int, reader: str, value: int) -> int:
        if value not in (-1, 1):
            raise InputError("value", "must be 1 (up) or -1 (down)")
        try:
            return self.rt.store.comments.vote(comment_id, self.rt.tokens.voter_id(reader), value)
        except StoreError as exc:
            raise InputError(exc.field, exc.message, status=404) from exc
