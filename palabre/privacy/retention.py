"""Export, erasure and the retention job: what the privacy page promises, done."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from palabre.config import Settings
from palabre.store import Store
from palabre.timeutil import isoformat, utcnow

log = logging.getLogger("palabre.privacy")
JOB_INTERVAL_SECONDS = 3600
LOGIN_ATTEMPT_DAYS = 30


@dataclass(frozen=True, slots=True)
class RetentionReport:
    ips_truncated: int
    spam_deleted: int
    checks_deleted: int
    login_attempts_deleted: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def run_retention(store: Store, settings: Settings, now: datetime | None = None) -> RetentionReport:
    """Truncate IPs older than ip_retention_days, delete spam older than
    spam_retention_days and Akismet-protocol check logs older than check_log_retention_days.
    Idempotent, so any number of instances may run it."""
    now = now or utcnow()
    privacy = settings.privacy
    moderation = store.moderation
    return RetentionReport(
        ips_truncated=moderation.truncate_ips(now - timedelta(days=privacy.ip_retention_days)),
        spam_deleted=moderation.purge_spam(now - timedelta(days=privacy.spam_retention_days)),
        checks_deleted=moderation.purge_check_log(
            now - timedelta(days=privacy.check_log_retention_days)
        ),
        login_attempts_deleted=store.users.purge_attempts(now - timedelta(days=LOGIN_ATTEMPT_DAYS)),
    )


def export_commenter(store: Store, email: str) -> dict[str, Any]:
    """Every comment stored with this e-mail address, with everything kept about it."""
    rows = store.moderation.export_email(email)
    comments = []
    for row in rows:
        item = dict(row)
        item["created"] = isoformat(row["created"])
        item["edited"] = isoformat(row["edited"])
        comments.append(item)
    return {"email": email.strip().lower(), "exported": isoformat(utcnow()), "comments": comments}


def erase_commenter(store: Store, email: str) -> int:
    """Erase every comment written with this e-mail address; returns how many."""
    return len(store.moderation.erase_email(email))


@contextlib.asynccontextmanager
async def retention_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs the retention job at start-up and then every hour, inside the server."""

    async def loop() -> None:
        while True:
            runtime = getattr(app.state, "runtime", None)
            if runtime is not None:
                try:
                    report = await run_in_threadpool(run_retention, runtime.store, runtime.settings)
                    if any(report.as_dict().values()):
                        log.info("retention: %s", report.as_dict())
                except Exception:
                    log.exception("the retention job failed; it will run again in an hour")
            await asyncio.sleep(JOB_INTERVAL_SECONDS)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
