"""Everything one Palabre process holds: settings, secrets, store, filter, services.

Built once at start-up and handed to the app; nothing else keeps global state.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from palabre.comments import CommentService
from palabre.config import Settings, SiteConfig, load_or_create_secrets
from palabre.errors import InputError
from palabre.filtering import SpamService, record_to_json
from palabre.loop_writes import LoopWriter
from palabre.spam import CommentRecord, Thresholds
from palabre.store import Store
from palabre.tokens import Tokens


def _thresholds(settings: Settings) -> Thresholds | None:
    spam = settings.spam
    if spam.unsure is None and spam.spam is None and spam.discard is None:
        return None
    default = Thresholds.default()
    return Thresholds(
        unsure=spam.unsure if spam.unsure is not None else default.unsure,
        spam=spam.spam if spam.spam is not None else default.spam,
        discard=spam.discard if spam.discard is not None else default.discard,
    )


class Runtime:
    def __init__(
        self, settings: Settings, store: Store | None = None, *, migrate: bool = True
    ) -> None:
        """``migrate=False`` when the schema is known to be current: serve migrates once
        before starting its workers, which then need not load Alembic at all."""
        self.settings = settings
        secrets = load_or_create_secrets(settings.data_dir)
        self.tokens = Tokens(secrets.signing_key, secrets.avatar_salt)
        self.secrets = secrets
        self.store = store or Store(settings.resolved_database_url)
        if migrate:
            self.store.migrate()
        self._site_ids = {
            site.name: self.store.comments.ensure_site(site.name) for site in settings.sites
        }
        self.spam = SpamService(
            self.store,
            share_learning=settings.spam.share_learning,
            thresholds=_thresholds(settings),
        )
        self.comments = CommentService(self)
        # Whether request handlers may do their reads on the event loop: SQLite reads in
        # WAL mode never wait, and skipping the thread-pool hop measured 10-20 % more
        # throughput; PostgreSQL reads wait on the network, so they go to worker threads.
        self.reads_inline = self.store.dialect == "sqlite"
        self.loop_writer = LoopWriter()
        # Load the model now, not on the first comment: that request would wait for it.
        # (With the filter off for comments it loads on the first Akismet check, if any.)
        if settings.spam.enabled:
            _ = self.spam.filter

    @cached_property
    def origins(self) -> list[str]:
        return sorted({origin for site in self.settings.sites for origin in site.origins})

    def site_id(self, name: str) -> int:
        return self._site_ids[name]

    def site_for(self, origin: str | None, uri: str | None = None) -> SiteConfig:
        """Which configured site a request is for: by its Origin, or the only site there is."""
        sites = self.settings.sites
        if origin and origin != "null":
            for site in sites:
                if origin.lower() in site.origins:
                    return site
            raise InputError("origin", f"{origin} is not an origin of any site here", status=403)
        if uri and "://" in uri:
            try:
                parts = urlsplit(uri)
            except ValueError as exc:
                raise InputError("uri", "is not a valid path or URL") from exc
            wanted = f"{parts.scheme}://{parts.netloc}".lower()
            for site in sites:
                if wanted in site.origins:
                    return site
        if len(sites) == 1:
            return sites[0]
        raise InputError("uri", "give a full page URL (or send Origin) to say which site it is on")

    @staticmethod
    def record_json(record: CommentRecord) -> dict[str, Any]:
        return record_to_json(record)

    def close(self) -> None:
        self.store.close()
