"""Palabre's spam filter as a library: record in, verdict with reasons out.

Imports nothing from the rest of Palabre (no web, no store, no config), so it can be
benchmarked and reused alone.
"""

from .filter import CommentRecord, Reason, SpamFilter, Verdict
from .model import Thresholds
from .state import SiteState

__all__ = ["CommentRecord", "Reason", "SiteState", "SpamFilter", "Thresholds", "Verdict"]
