"""Per-site learned state: weight deltas over the frozen prior, reputation, near-duplicates.

Replay contract: the store persists every learn() event and each process replays the
events it has not seen, in id order. Every update here is therefore deterministic (plain
float arithmetic in a fixed order, no randomness, no wall clock), bounded in size with a
deterministic eviction order, and serialised canonically (sorted keys), so the same events
in the same order give byte-identical ``to_bytes()`` output in every process.
"""

from __future__ import annotations

import base64
import json
import threading
import zlib
from typing import Any

import numpy as np

MAGIC = b"PSST"
VERSION = 1
MAX_DELTAS = 300_000
MAX_REPUTATION = 50_000
MAX_MEMORY = 4_000
SIG_SIZE = 32


class SiteState:
    """What one site's moderators have taught the filter. Thread-safe (internal lock)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.seq = 0  # number of learn events applied
        self.n_spam = 0
        self.n_ham = 0
        self.deltas: dict[int, float] = {}
        # key ("ip:1.2.3.4", "link:example.com", ...) -> [spam count, ham count, last seq]
        self.reputation: dict[str, list[int]] = {}
        self._mem_sigs: list[np.ndarray] = []
        self._mem_labels: list[int] = []
        self._mem_cache: tuple[np.ndarray, np.ndarray] | None = None

    # -- queries (callers hold the lock) -------------------------------------------------
    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def memory(self) -> tuple[np.ndarray, np.ndarray]:
        """(signatures [n, SIG_SIZE] uint32, labels [n] int8) of remembered texts."""
        if self._mem_cache is None:
            if self._mem_sigs:
                sigs = np.stack(self._mem_sigs)
            else:
                sigs = np.zeros((0, SIG_SIZE), dtype=np.uint32)
            self._mem_cache = (sigs, np.array(self._mem_labels, dtype=np.int8))
        return self._mem_cache

    # -- updates (callers hold the lock) -------------------------------------------------
    def remember(self, sig: np.ndarray, label: int) -> None:
        self._mem_sigs.append(sig.astype(np.uint32))
        self._mem_labels.append(label)
        if len(self._mem_sigs) > MAX_MEMORY:  # forget the oldest first
            del self._mem_sigs[0]
            del self._mem_labels[0]
        self._mem_cache = None

    def count(self, key: str, is_spam: bool) -> None:
        entry = self.reputation.setdefault(key, [0, 0, 0])
        entry[0 if is_spam else 1] += 1
        entry[2] = self.seq
        if len(self.reputation) > MAX_REPUTATION * 11 // 10:
            # Evict in batches (amortised cost): least recently seen first, ties broken by
            # key, so every process evicts exactly the same entries.
            order = sorted(self.reputation.items(), key=lambda kv: (kv[1][2], kv[0]))
            for key_, _ in order[: len(order) - MAX_REPUTATION]:
                del self.reputation[key_]

    def trim_deltas(self) -> None:
        if len(self.deltas) <= MAX_DELTAS * 11 // 10:  # trim in batches: amortised cost
            return
        keep = sorted(self.deltas.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:MAX_DELTAS]
        self.deltas = dict(sorted(keep))

    # -- serialisation -------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Compact, versioned, canonical: magic + version byte + zlib(JSON)."""
        with self._lock:
            keys = sorted(self.deltas)
            sigs, labels = self.memory()
            doc: dict[str, Any] = {
                "seq": self.seq,
                "n_spam": self.n_spam,
                "n_ham": self.n_ham,
                "delta_idx": keys,
                "delta_val": [self.deltas[k] for k in keys],
                "reputation": sorted([k, *v] for k, v in self.reputation.items()),
                "mem_sigs": base64.b64encode(sigs.astype("<u4").tobytes()).decode("ascii"),
                "mem_labels": base64.b64encode(labels.astype("i1").tobytes()).decode("ascii"),
            }
        body = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return MAGIC + bytes([VERSION]) + zlib.compress(body.encode("utf-8"), 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> SiteState:
        """Inverse of to_bytes; raises ValueError on anything that is not a valid state."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ValueError("SiteState.from_bytes needs bytes")
        data = bytes(data)
        if data[:4] != MAGIC or len(data) < 5:
            raise ValueError("not a Palabre spam SiteState")
        if data[4] != VERSION:
            raise ValueError(f"unsupported SiteState version {data[4]} (this code reads {VERSION})")
        try:
            doc = json.loads(zlib.decompress(data[5:], bufsize=1 << 16).decode("utf-8"))
            st = cls()
            st.seq, st.n_spam, st.n_ham = int(doc["seq"]), int(doc["n_spam"]), int(doc["n_ham"])
            idx, val = doc["delta_idx"], doc["delta_val"]
            if len(idx) != len(val):
                raise ValueError("delta arrays differ in length")
            st.deltas = {int(i): float(v) for i, v in zip(idx, val, strict=True)}
            st.reputation = {str(k): [int(s), int(h), int(t)] for k, s, h, t in doc["reputation"]}
            sigs = np.frombuffer(base64.b64decode(doc["mem_sigs"]), dtype="<u4")
            labels = np.frombuffer(base64.b64decode(doc["mem_labels"]), dtype="i1")
            if sigs.size != labels.size * SIG_SIZE:
                raise ValueError("memory arrays do not match")
            sigs = sigs.reshape(labels.size, SIG_SIZE).astype(np.uint32)
            st._mem_sigs = list(sigs)
            st._mem_labels = [int(x) for x in labels]
        except (KeyError, TypeError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"corrupt SiteState: {e}") from e
        return st

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SiteState) and self.to_bytes() == other.to_bytes()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"SiteState(learned={self.seq}, spam={self.n_spam}, ham={self.n_ham}, "
            f"deltas={len(self.deltas)}, reputation={len(self.reputation)})"
        )
