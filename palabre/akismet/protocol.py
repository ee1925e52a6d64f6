"""The Akismet protocol on Palabre's filter: form parameters in, exact plain text out.

Kept free of HTTP framework types: ``AkismetService`` takes a parameter mapping, the Host
header and the request headers clients use, and returns an ``Answer`` (body, headers,
media type) that the router sends as it is. See ``../shared/akismet-protocol.md``.

Decisions worth knowing:

- Application results, ``invalid`` and missing fields included, are HTTP 200 with a plain
  body and ``X-akismet-debug-help``: real clients raise generic errors on anything else.
- The key is read from ``api_key``, then the legacy ``key``, then the first label of the
  Host header when it is a 12-character ``[a-z0-9]`` label (``{key}.rest.example.com``).
- ``key-sites`` without a key answers ``invalid``. The PyPI ``akismet`` client (25.10)
  sends no key there; rather than hand one tenant's statistics to anonymous callers, a
  self-hosted server asks for the key, which that client can send by giving its
  ``httpx`` client ``params={"api_key": KEY}`` (or a ``{key}.host`` base URL).
- The filter's four classes map onto Akismet's two answers: ``ham`` and ``unsure`` are
  ``false`` (a real comment wrongly hidden costs more than a spam one published late),
  ``spam`` is ``true``, ``discard`` is ``true`` with ``X-akismet-pro-tip: discard``.
- Unknown parameters are accepted and ignored. They are not logged either: WordPress
  sends its ``HTTP_*`` server variables, cookies included.
- A key is valid for any well-formed ``blog`` URL (as Akismet's multi-site keys are); usage
  is counted per key, month and blog, which is what ``key-sites`` lists.
- Every comment-check is logged (guid, verdict, score, reasons, record) by a write-behind
  queue (``checklog``); reads of the log in this process flush it first. submit-spam/ham
  find their check by the ``X-akismet-guid`` header (or a ``guid`` field), else by a hash
  of content, author and IP, count ``missed_spam``/``false_positives`` when the check had
  said otherwise, and teach the key's own site (``akismet:<hash prefix>``) through
  ``SpamService.learn``. ``is_test`` requests are classified and logged, never counted,
  and never train.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from palabre.akismet.checklog import CheckLogWriter
from palabre.akismet.keys import looks_like_key, valid_blog_url
from palabre.spam import CommentRecord
from palabre.store.akismet import ApiKey, CheckLog
from palabre.timeutil import utcnow

THANKS = "Thanks for making the web a better place."
TEXT = "text/plain; charset=utf-8"
TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
GUARANTEED_SPAM_AUTHORS = frozenset({"akismet-guaranteed-spam", "viagra-test-123"})
GUARANTEED_SPAM_EMAIL = "akismet-guaranteed-spam@example.com"
CONTEXT_NAME = re.compile(r"comment_context(\[\d*\])?")
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
ORDERS = ("total", "spam", "ham", "missed_spam", "false_positives")
MAX_FIELD = 100_000  # longer values are cut before they reach the filter or the log
RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(CommentRecord))
KEEP_IN_LOG = ("comment_type", "user_role", "recheck_reason", "comment_date_gmt",
               "comment_post_modified_gmt", "blog_charset")  # fmt: skip


@dataclass(slots=True)
class Answer:
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = TEXT


def invalid(help_text: str) -> Answer:
    return Answer("invalid", {"X-akismet-debug-help": help_text})


def missing(name: str) -> Answer:
    return Answer(
        f"Missing required field: {name}.", {"X-akismet-debug-help": f'Empty "{name}" value'}
    )


class Params:
    """Form or query parameters, as PHP reads them (the last value of a name wins),
    with ``comment_context``, ``comment_context[]`` and ``comment_context[N]`` gathered."""

    __slots__ = ("context", "values")

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.values: dict[str, str] = {}
        indexed: dict[int, str] = {}
        plain: list[str] = []
        for name, value in pairs:
            if name.startswith("comment_context") and CONTEXT_NAME.fullmatch(name):
                index = name[16:-1]
                if index:
                    indexed[int(index)] = value
                else:
                    plain.append(value)
                continue
            self.values[name] = value[:MAX_FIELD]
        self.context = [v[:1000] for _, v in sorted(indexed.items())] + [p[:1000] for p in plain]

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def flag(self, name: str) -> bool:
        return self.values.get(name, "").strip().lower() in TRUE_VALUES


def key_from(params: Params, host: str | None) -> str:
    """The API key from ``api_key``, the legacy ``key``, or a ``{key}.host`` subdomain."""
    for name in ("api_key", "key"):
        value = params.get(name).strip()
        if value:
            return value
    if host:
        label, dot, _rest = host.partition(".")
        label = label.lower()
        if dot and looks_like_key(label):
            return label
    return ""


def to_record(params: Params) -> CommentRecord:
    parent = params.get("comment_parent").strip()
    honeypot_name = params.get("honeypot_field_name").strip()
    return CommentRecord(
        text=params.get("comment_content"),
        author=params.get("comment_author") or None,
        email=params.get("comment_author_email") or None,
        website=params.get("comment_author_url") or None,
        ip=params.get("user_ip").strip() or None,
        user_agent=params.get("user_agent") or None,
        referrer=params.get("referrer") or params.get("referer") or None,
        permalink=params.get("permalink") or None,
        language=params.get("blog_lang") or None,
        seconds_to_submit=None,
        honeypot=params.get(honeypot_name) if honeypot_name else None,
        is_reply=(parent not in ("", "0")) or params.get("comment_type").strip() == "reply",
    )


def new_guid() -> str:
    """32 hex digits like a UUID's, but the first 12 are the time in milliseconds: each
    check's guid then lands at the end of the log's unique index instead of on a random
    page, which kept the log's writes cheaper as it grows (80 random bits still make a
    guid unguessable and unique)."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def fingerprint(params: Params) -> str:
    """What a later submit-spam/ham without a guid is matched on: content, author, IP."""
    parts = (params.get("comment_content"), params.get("comment_author"),
             params.get("user_ip").strip())  # fmt: skip
    return hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class Decision:
    is_spam: bool
    discard: bool
    klass: str
    score: float
    reasons: list[dict[str, Any]]


def test_trigger(params: Params) -> Decision | None:
    """The documented test values; guaranteed spam wins over ``user_role=administrator``."""
    author = params.get("comment_author").strip().lower()
    email = params.get("comment_author_email").strip().lower()
    discard = params.flag("test_discard")
    reason = ""
    if author in GUARANTEED_SPAM_AUTHORS:
        reason = f"test trigger: comment_author is {author}"
    elif email == GUARANTEED_SPAM_EMAIL:
        reason = f"test trigger: comment_author_email is {email}"
    elif discard:
        reason = "test trigger: test_discard=1"
    if reason:
        klass = "discard" if discard else "spam"
        return Decision(True, discard, klass, 1.0, [{"text": reason, "weight": 1.0}])
    roles = {role.strip().lower() for role in params.get("user_role").split(",")}
    if "administrator" in roles:
        reason = "test trigger: user_role is administrator"
        return Decision(False, False, "ham", 0.0, [{"text": reason, "weight": -1.0}])
    return None


def current_month() -> str:
    return utcnow().strftime("%Y-%m")


class AkismetService:
    """The protocol's behaviour over the store and the shared spam service."""

    def __init__(self, runtime: Any) -> None:
        self.rt = runtime
        self.store = runtime.store
        self.checks = CheckLogWriter(runtime.store)

    # -- shared steps ----------------------------------------------------------------

    def _key(self, params: Params, host: str | None) -> tuple[ApiKey | None, Answer | None]:
        key = key_from(params, host)
        if not key:
            return None, invalid("Missing required field: api_key")
        found = self.store.akismet.find_key(key, cached=True) if looks_like_key(key) else None
        if found is None:
            return None, invalid("Your API key is not valid")
        if not found.active:
            return None, invalid("Your API key has been revoked")
        return found, None

    def _key_and_content(
        self, params: Params, host: str | None
    ) -> tuple[ApiKey | None, Answer | None]:
        """What comment-check and submit-* need: a valid key, then the required fields."""
        key, refused = self._key(params, host)
        return key, refused or self._content_fields(params)

    @staticmethod
    def _content_fields(params: Params) -> Answer | None:
        blog = params.get("blog").strip()
        if not blog:
            return missing("blog")
        if not valid_blog_url(blog):
            return invalid("We were unable to parse your blog URI")
        if not params.get("user_ip").strip():
            return missing("user_ip")
        return None

    @staticmethod
    def _log_record(params: Params, record: CommentRecord) -> dict[str, Any]:
        """The record as the filter saw it (what ``record_from_json`` reads back), plus the
        protocol fields a moderator wants to see; built field by field, as this runs on
        every check (``dataclasses.asdict`` deep-copies and cost 40 us)."""
        data = {name: value for name in RECORD_FIELDS
                if (value := getattr(record, name)) is not None}  # fmt: skip
        extra = {name: params.get(name) for name in KEEP_IN_LOG if params.get(name)}
        if params.context:
            extra["comment_context"] = params.context
        if extra:
            data["akismet"] = extra
        return data

    # -- endpoints -------------------------------------------------------------------

    def verify_key(self, params: Params, host: str | None) -> Answer:
        key, refused = self._key(params, host)
        if refused:
            return refused
        assert key is not None
        blog = params.get("blog").strip()
        if not blog:
            return invalid('Empty "blog" value')
        if not valid_blog_url(blog):
            return invalid("We were unable to parse your blog URI")
        return Answer("valid")

    def comment_check(self, params: Params, host: str | None) -> Answer:
        key, refused = self._key_and_content(params, host)
        if refused:
            return refused
        assert key is not None
        record = to_record(params)
        decision = test_trigger(params)
        if decision is None:
            verdict = self.rt.spam.check(key.site_id, record)
            klass = verdict.klass
            decision = Decision(
                is_spam=klass in ("spam", "discard"),
                discard=klass == "discard",
                klass=klass,
                score=float(verdict.score),
                reasons=[{"text": r.text, "weight": float(r.weight)} for r in verdict.reasons],
            )
        guid = new_guid()
        self.checks.add(
            CheckLog(
                guid=guid,
                api_key_id=key.id,
                blog=params.get("blog").strip(),
                fingerprint=fingerprint(params),
                is_spam=decision.is_spam,
                score=decision.score,
                klass=decision.klass,
                reasons=decision.reasons,
                record=self._log_record(params, record),
                is_test=params.flag("is_test"),
            ),
            current_month(),
        )
        headers = {"X-akismet-guid": guid}
        if decision.discard:
            headers["X-akismet-pro-tip"] = "discard"
        return Answer("true" if decision.is_spam else "false", headers)

    def submit(
        self, params: Params, host: str | None, is_spam: bool, guid: str | None = None
    ) -> Answer:
        key, refused = self._key_and_content(params, host)
        if refused:
            return refused
        assert key is not None
        if params.flag("is_test"):
            return Answer(THANKS)  # never trains, never counts
        guid = (guid or params.get("guid")).strip() or None
        self.checks.flush()
        akismet = self.store.akismet
        check = akismet.find_check(key.id, guid=guid) if guid else None
        if check is None:
            check = akismet.find_check(key.id, fingerprint=fingerprint(params))
        record: CommentRecord | dict[str, Any] = to_record(params)
        if check is not None and not params.get("comment_content"):
            record = {k: v for k, v in check.record.items() if k != "akismet"}
        akismet.record_feedback(
            key.id, current_month(), params.get("blog").strip(), is_spam, check, count=True
        )
        self.rt.spam.learn(
            key.site_id, record, is_spam, source="akismet", actor=f"akismet:{key.hint}"
        )
        return Answer(THANKS)

    def usage_limit(self, params: Params, host: str | None) -> Answer:
        key, refused = self._key(params, host)
        if refused:
            return refused
        assert key is not None
        self.checks.flush()
        usage = self.store.akismet.month_calls(key.id, current_month())
        body = {"limit": "none", "usage": usage, "percentage": "0.00", "throttled": False}
        return Answer(orjson.dumps(body).decode(), media_type="application/json")

    def key_sites(self, params: Params, host: str | None) -> Answer:
        key, refused = self._key(params, host)
        if refused:
            return refused
        assert key is not None
        month = params.get("month").strip() or current_month()
        if not MONTH.fullmatch(month):
            return invalid("month must be YYYY-MM")
        order = params.get("order").strip() or "total"
        if order not in ORDERS:
            return invalid("order must be one of " + ", ".join(ORDERS))
        result_format = params.get("format").strip().lower() or "json"
        if result_format not in ("json", "csv"):
            return invalid("format must be json or csv")
        try:
            limit = int(params.get("limit") or 500)
            offset = int(params.get("offset") or 0)
        except ValueError:
            return invalid("limit and offset must be whole numbers")
        if not 1 <= limit <= 1000 or offset < 0:
            return invalid("limit must be 1 to 1000 and offset 0 or more")
        self.checks.flush()
        rows, total = self.store.akismet.site_usage(
            key.id, month, url_filter=params.get("filter").strip(), order=order,  # type: ignore[arg-type]
            limit=limit, offset=offset,
        )  # fmt: skip
        if result_format == "csv":
            out = io.StringIO()
            out.write(f"Active sites for {key_from(params, host)} during {month} "
                      f"(limit:{limit}, offset: {offset}, total: {total})\n")  # fmt: skip
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["Site", "Total API Calls", "Spam", "Ham", "Missed Spam",
                             "False Positives", "Is Revoked"])  # fmt: skip
            for r in rows:
                writer.writerow([r.blog, r.calls, r.spam, r.ham, r.missed_spam,
                                 r.false_positives, "false"])  # fmt: skip
            return Answer(out.getvalue().rstrip("\n"), media_type="text/csv; charset=utf-8")
        sites = [
            {
                "site": r.blog,
                "api_calls": str(r.calls),
                "spam": str(r.spam),
                "ham": str(r.ham),
                "missed_spam": str(r.missed_spam),
                "false_positives": str(r.false_positives),
                "is_revoked": False,
            }
            for r in rows
        ]
        body = {month: sites, "limit": limit, "offset": offset, "total": total}
        return Answer(orjson.dumps(body).decode(), media_type="application/json")


def parse_form(body: bytes, charset: str = "utf-8") -> list[tuple[str, str]]:
    """``application/x-www-form-urlencoded`` to pairs, tolerant of any bytes."""
    from urllib.parse import parse_qsl

    try:
        "".encode(charset)
    except LookupError:
        charset = "utf-8"
    text = body.decode(charset, errors="replace")
    return parse_qsl(text, keep_blank_values=True, encoding=charset, errors="replace",
                     max_num_fields=2000)  # fmt: skip
