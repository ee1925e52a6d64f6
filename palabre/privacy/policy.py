"""The privacy page's content, built from the live settings: true by construction."""

from __future__ import annotations

from typing import Any

from palabre.config import Settings


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def policy(settings: Settings) -> dict[str, Any]:
    p = settings.privacy
    c = settings.comments
    ip_rule = (
        "truncated (the last part removed, so it no longer points to one connection) at the "
        "next hourly clean-up"
        if p.ip_retention_days == 0
        else f"kept in full for {_days(p.ip_retention_days)}, then truncated (the last part "
        "removed: /24 for IPv4, /48 for IPv6), so it no longer points to one connection"
    )
    sites = [
        {"name": site.title or site.name, "moderation": site.moderation} for site in settings.sites
    ]
    moderation_modes = {
        "none": "published at once"
        + (" unless the spam filter holds it" if settings.spam.enabled else ""),
        "first-comment": "published at once for commenters with an earlier approved comment; "
        "a first comment waits for a moderator",
        "all": "shown only after a moderator approves it",
    }
    return {
        "ip_retention_days": p.ip_retention_days,
        "spam_retention_days": p.spam_retention_days,
        "check_log_retention_days": p.check_log_retention_days,
        "edit_window_minutes": max(1, c.edit_window // 60) if c.edit_window else 0,
        "contact": p.contact,
        "spam_enabled": settings.spam.enabled,
        "share_learning": settings.spam.share_learning,
        "sites": [
            {**site, "moderation_text": moderation_modes[site["moderation"]]} for site in sites
        ],
        "stored": [
            ("Your name", "published with the comment"),
            (
                "Your e-mail address (optional)",
                "never published; used for reply "
                "notifications, to recognise returning commenters, and — as a keyed hash that "
                "cannot be turned back into the address — to draw your avatar",
            ),
            ("Your website (optional)", "published as a link on your name"),
            ("Your comment", "its text as you wrote it and the HTML shown to readers"),
            ("Your IP address", ip_rule),
            ("Your browser's user agent", "kept with the comment to help tell people from bots"),
            ("Time of writing and of edits", "published"),
            ("Spam score and reasons", "shown to moderators only"),
        ],
        "ip_rule": ip_rule,
        "spam_rule": f"Comments classed as spam are deleted {_days(p.spam_retention_days)} "
        "after they were written.",
        "check_rule": f"Records of spam checks made for other sites through the "
        f"Akismet-compatible API are deleted after {_days(p.check_log_retention_days)}.",
    }
