"""Akismet-compatible REST API on Palabre's spam filter (see ``protocol`` for decisions)."""
