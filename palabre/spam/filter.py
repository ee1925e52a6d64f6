"""The public filter: comment record in, verdict with reasons out; online learning per site."""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from .features import (
    _EMAIL_RE,
    DENSE_NAMES,
    DISPOSABLE_EMAIL,
    N_DENSE,
    N_HASH,
    SUSPICIOUS_TLDS,
    URL_RE,
    FeatureBatch,
    Features,
    _mix,
    extract_batch,
    host_of,
    is_shortener,
    registrable,
    without_page_links,
)
from .model import MODEL_DIR, LinearModel, Thresholds
from .normalize import safe_text
from .state import SIG_SIZE, SiteState

Klass = Literal["ham", "unsure", "spam", "discard"]

# Every weight below is in log-odds, the unit of the model's margin once training has
# calibrated it (train.fit_calibration; models trained before that are uncalibrated).
# Online learning. A step moves the margin of the very same text by about
# LEARN_RATE * |p - y| * ||x||^2 (~1.7 for one label), so one label nudges and two or
# three flip a near-identical comment; per-weight clipping keeps any site from drifting
# arbitrarily far from the shipped prior.
LEARN_RATE = 0.9
LEARN_RATE_DENSE = 0.05
DELTA_CLIP = 2.0
# Near-duplicate memory: MinHash similarity above which two texts count as "the same".
NEAR_DUP = 0.5
MEMORY_WEIGHT = 1.5
MEMORY_CAP = 4.0
# Reputation: weight of the smoothed log-odds per kind of key, and the cap on the total.
REPUTATION_WEIGHTS = {"ip": 0.5, "net": 0.25, "email": 1.0, "web": 1.0, "link": 0.6}
REPUTATION_CAP = 5.0
REASON_MIN = 0.15
MAX_REASONS = 6

_SIG_SEEDS = _mix(np.arange(1, SIG_SIZE + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
_BOT_UA = re.compile(r"(?i)curl|wget|python|requests|httpclient|go-http|java/|libwww|scrapy|bot")
_SCRIPTS = {
    "Cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "Greek": re.compile(r"[\u0370-\u03ff]"),
    "Arabic": re.compile(r"[\u0600-\u06ff]"),
    "Hebrew": re.compile(r"[\u0590-\u05ff]"),
    "Devanagari": re.compile(r"[\u0900-\u097f]"),
    "Thai": re.compile(r"[\u0e00-\u0e7f]"),
    "CJK": re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"),
    "Latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
}
_LANG_SCRIPTS = {
    "ru": "Cyrillic", "uk": "Cyrillic", "bg": "Cyrillic", "sr": "Cyrillic", "mk": "Cyrillic",
    "be": "Cyrillic", "kk": "Cyrillic", "el": "Greek", "ar": "Arabic", "fa": "Arabic",
    "ur": "Arabic", "he": "Hebrew", "hi": "Devanagari", "mr": "Devanagari", "ne": "Devanagari",
    "th": "Thai", "zh": "CJK", "ja": "CJK", "ko": "CJK",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CommentRecord:
    """One comment as the filter sees it; every field but ``text`` may be missing."""

    text: str
    author: str | None = None
    email: str | None = None
    website: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    permalink: str | None = None
    language: str | None = None
    seconds_to_submit: float | None = None
    honeypot: str | None = None
    is_reply: bool | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """A plain sentence and its signed weight (log-odds; > 0 pushes towards spam)."""

    text: str
    weight: float

    def __post_init__(self) -> None:
        # Plain floats (not numpy scalars) so verdicts serialise as JSON everywhere.
        object.__setattr__(self, "weight", round(float(self.weight), 3))

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "weight": self.weight}


@dataclass(frozen=True, slots=True)
class Verdict:
    score: float
    klass: Klass
    reasons: list[Reason]

    def to_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "class": self.klass,
            "reasons": [r.to_dict() for r in self.reasons],
        }


def _sigmoid(m: float) -> float:
    if m >= 0:
        return 1.0 / (1.0 + math.exp(-min(m, 50.0)))
    e = math.exp(max(m, -50.0))
    return e / (1.0 + e)


def minhash(shingles: np.ndarray) -> np.ndarray:
    """SIG_SIZE-value MinHash of a shingle set; equal positions estimate Jaccard similarity."""
    if shingles.size == 0:
        return np.zeros(SIG_SIZE, dtype=np.uint32)
    sh = np.unique(shingles)[:4096]
    h = _mix(sh[None, :] ^ _SIG_SEEDS[:, None])
    return (h.min(axis=1) >> np.uint64(32)).astype(np.uint32)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _str(x: object) -> str:
    return safe_text(x).strip()[:2000] if x is not None else ""


def reputation_keys(rec: CommentRecord, hosts: Iterable[str]) -> list[tuple[str, str]]:
    """(kind, key) pairs this record contributes to site reputation."""
    keys: list[tuple[str, str]] = []
    ip = _str(rec.ip)
    if ip:
        try:
            addr = ipaddress.ip_address(ip)
            keys.append(("ip", f"ip:{addr.compressed}"))
            prefix = 24 if addr.version == 4 else 64
            net = ipaddress.ip_network(f"{addr}/{prefix}", strict=False)
            keys.append(("net", f"net:{net.compressed}"))
        except ValueError:
            keys.append(("ip", "ip:" + ip[:64]))
    email = _str(rec.email).lower()
    if email:
        # Only a hash: the state is shared and persisted; the address itself is not needed.
        keys.append(("email", "email:" + hashlib.sha256(email.encode()).hexdigest()[:20]))
    web = website_host(rec.website)
    if web:
        keys.append(("web", "web:" + registrable(web)))
    for d in sorted({registrable(h) for h in hosts}):
        keys.append(("link", "link:" + d))
    return keys


def website_host(website: str | None) -> str:
    w = _str(website)
    if not w:
        return ""
    h = host_of(w if "//" in w else "http://" + w)
    return h if "." in h else ""


_KIND_TEXT = {
    "ip": "IP address",
    "net": "IP network",
    "email": "e-mail address",
    "web": "website domain",
    "link": "linked domain",
}


class SpamFilter:
    """Scores comments with the frozen model plus whatever a SiteState has learned."""

    _default: SpamFilter | None = None
    _default_lock = threading.Lock()

    def __init__(self, model: LinearModel) -> None:
        self.model = model
        self._w = model.w
        self._w_dense = model.w[N_HASH:]
        self._b = model.b
        self._idf = model.idf

    # -- construction --------------------------------------------------------------------
    @classmethod
    def load_default(cls) -> SpamFilter:
        """The shipped model (palabre/spam/model/), loaded once per process."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls(LinearModel.load(MODEL_DIR))
            return cls._default

    @classmethod
    def load(cls, directory: str | Path) -> SpamFilter:
        return cls(LinearModel.load(Path(directory)))

    @property
    def thresholds(self) -> Thresholds:
        return self.model.thresholds

    # -- scoring -------------------------------------------------------------------------
    def check(
        self,
        rec: CommentRecord | str,
        state: SiteState | None = None,
        thresholds: Thresholds | None = None,
    ) -> Verdict:
        # The batch path with a batch of one: a comment gets the same verdict either way.
        return self.check_many([rec], state, thresholds)[0]

    def check_many(
        self,
        records: Sequence[CommentRecord | str],
        state: SiteState | None = None,
        thresholds: Thresholds | None = None,
    ) -> list[Verdict]:
        th = thresholds or self.model.thresholds
        recs = [_as_record(r) for r in records]
        batch = self._extract(recs)
        terms = self._model_terms(batch)
        return [
            self._verdict(rec, f, *t, state, th)
            for rec, f, t in zip(recs, batch.features, terms, strict=True)
        ]

    def margins(self, texts: Sequence[str], chunk: int = 1000) -> np.ndarray:
        """Model log-odds for bare texts (no state, no rules): the evaluation fast path."""
        out = []
        for i in range(0, len(texts), chunk):
            out += [
                text_m + dense_m
                for text_m, dense_m, _ in self._model_terms(
                    extract_batch(texts[i : i + chunk], self._idf)
                )
            ]
        return np.array(out, dtype=np.float64) + self._b

    def _extract(self, recs: Sequence[CommentRecord]) -> FeatureBatch:
        """Features as training saw them: links to the page itself dropped, n-grams
        weighed by the model's IDF."""
        return extract_batch([without_page_links(r.text, r.permalink) for r in recs], self._idf)

    def _model_terms(self, batch: FeatureBatch) -> list[tuple[float, float, list[float]]]:
        """Per text: the hashed block's margin, the dense block's, and each dense feature's
        contribution. One sparse product for the whole batch: per text, numpy's call
        overhead on arrays of a few hundred values cost more than the arithmetic."""
        n = len(batch.features)
        text_m = np.bincount(batch.rows, weights=self._w[batch.idx] * batch.val, minlength=n)
        dense_c = batch.dense * self._w_dense
        return list(
            zip(text_m.tolist(), dense_c.sum(axis=1).tolist(), dense_c.tolist(), strict=True)
        )

    def _verdict(
        self,
        rec: CommentRecord,
        f: Features,
        text_m: float,
        dense_m: float,
        dense_c: list[float],
        state: SiteState | None,
        th: Thresholds,
    ) -> Verdict:
        reasons: list[Reason] = []
        margin = self._b + text_m + dense_m

        if state is not None:
            with state.lock:
                site_m, site_reasons = self._site_terms(rec, f, state)
            margin += site_m
            reasons.extend(site_reasons)

        rule_m, rule_reasons, hard = _rules(rec, f)
        margin += rule_m
        reasons.extend(rule_reasons)
        # The bias belongs to the wording: "what the text says" relative to a neutral text.
        reasons.extend(self._text_reasons(f, text_m + self._b))
        reasons.extend(_dense_reasons(f, dense_c))

        score = _sigmoid(margin)
        if hard:
            score = max(score, th.discard)
        reasons = [r for r in reasons if abs(r.weight) >= REASON_MIN]
        reasons.sort(key=lambda r: (-abs(r.weight), r.text))
        klass: Klass = th.classify(score)  # type: ignore[assignment]
        return Verdict(score, klass, reasons[:MAX_REASONS])

    def _text_reasons(self, f: Features, text_m: float) -> list[Reason]:
        if abs(text_m) < REASON_MIN:
            return []
        if not f.idx.size:  # only the bias: what a comment starts from before any evidence
            return [Reason("no comment text", round(text_m, 3))]
        sign = 1.0 if text_m > 0 else -1.0
        # The words pulling hardest the way the text does, strongest first (ties in text
        # order); plain Python: a comment has a few dozen words at most.
        ww = [w * sign for w in self._w[f.word_idx].tolist()]
        pulling = sorted((j for j, w in enumerate(ww) if w > 0.05), key=lambda j: -ww[j])
        best: list[str] = []
        for j in pulling:
            tok = f.words[j]
            if len(best) >= 3:
                break
            if len(tok) >= 3 and not any(c.isdigit() for c in tok) and tok not in best:
                best.append(tok)
        quoted = ", ".join(f"“{t}”" for t in best)
        if sign > 0:
            text = "wording typical of spam" + (f": {quoted}" if quoted else "")
        else:
            text = "wording typical of genuine comments" + (f": {quoted}" if quoted else "")
        return [Reason(text, round(text_m, 3))]

    def _site_terms(
        self, rec: CommentRecord, f: Features, state: SiteState
    ) -> tuple[float, list[Reason]]:
        reasons: list[Reason] = []
        total = 0.0
        if state.deltas:
            dm = _delta_margin(f, state.deltas)
            total += dm
            if dm > 0:
                reasons.append(Reason("similar wording was marked spam on this site", round(dm, 3)))
            else:
                reasons.append(Reason("similar wording was approved on this site", round(dm, 3)))
        sigs, labels = state.memory()
        if labels.size and f.shingles.size:  # a blank text is close to nothing
            sig = minhash(f.shingles)
            sims = (sigs == sig).mean(axis=1)
            close = sims >= NEAR_DUP
            k_spam = int((close & (labels == 1)).sum())
            k_ham = int((close & (labels == 0)).sum())
            if k_spam or k_ham:
                mm = MEMORY_WEIGHT * (math.log2(1 + k_spam) - math.log2(1 + k_ham))
                mm = max(-MEMORY_CAP, min(MEMORY_CAP, mm))
                total += mm
                if k_spam >= k_ham:
                    txt = f"text close to {_plural(k_spam, 'comment')} marked spam on this site"
                else:
                    txt = f"text close to {_plural(k_ham, 'comment')} approved on this site"
                reasons.append(Reason(txt, round(mm, 3)))
        if state.reputation:
            rep_total = 0.0
            rep_reasons = []
            for kind, key in reputation_keys(rec, f.hosts):
                entry = state.reputation.get(key)
                if entry is None:
                    continue
                s, h = entry[0], entry[1]
                c = REPUTATION_WEIGHTS[kind] * math.log((s + 0.5) / (h + 0.5))
                rep_total += c
                what = _KIND_TEXT[kind]
                name = key.split(":", 1)[1] if kind in ("web", "link") else ""
                label = f"{what} {name}".strip()
                if s >= h:
                    txt = f"{label} marked spam {'once' if s == 1 else f'{s} times'}"
                else:
                    txt = f"{label} approved {'once' if h == 1 else f'{h} times'}"
                rep_reasons.append(Reason(txt + " on this site", round(c, 3)))
            rep_total = max(-REPUTATION_CAP, min(REPUTATION_CAP, rep_total))
            total += rep_total
            reasons.extend(rep_reasons)
        return total, reasons

    # -- learning ------------------------------------------------------------------------
    def learn(self, rec: CommentRecord | str, is_spam: bool, state: SiteState) -> None:
        """Teach ``state`` one moderator decision. Deterministic and cheap (see state.py)."""
        if state is None:
            raise ValueError("learn() needs the SiteState of the site that made the decision")
        rec = _as_record(rec)
        batch = self._extract([rec])
        f = batch.features[0]
        text_m, dense_m, _ = self._model_terms(batch)[0]
        y = 1.0 if is_spam else 0.0
        sig = minhash(f.shingles)
        keys = reputation_keys(rec, f.hosts)
        with state.lock:
            d = state.deltas
            m = self._b + text_m + dense_m + _delta_margin(f, d)
            g = _sigmoid(m) - y
            for i, v in zip(f.idx.tolist(), f.val.tolist(), strict=True):
                nv = d.get(i, 0.0) - LEARN_RATE * g * v
                d[i] = max(-DELTA_CLIP, min(DELTA_CLIP, nv))
            for j in range(N_DENSE):
                x = float(f.dense[j])
                if x:
                    nv = d.get(N_HASH + j, 0.0) - LEARN_RATE_DENSE * g * x
                    d[N_HASH + j] = max(-DELTA_CLIP, min(DELTA_CLIP, nv))
            state.seq += 1
            if is_spam:
                state.n_spam += 1
            else:
                state.n_ham += 1
            for _kind, key in keys:
                state.count(key, is_spam)
            if f.shingles.size:
                state.remember(sig, 1 if is_spam else 0)
            state.trim_deltas()


def _delta_margin(f: Features, deltas: dict[int, float]) -> float:
    """What a site's learned weight deltas add to the margin of these features."""
    dm = sum(deltas.get(i, 0.0) * v for i, v in zip(f.idx.tolist(), f.val.tolist(), strict=True))
    dm += sum(deltas.get(N_HASH + j, 0.0) * x for j, x in enumerate(f.dense.tolist()))
    return dm


def _as_record(rec: CommentRecord | str) -> CommentRecord:
    if isinstance(rec, CommentRecord):
        return rec
    if isinstance(rec, str):
        return CommentRecord(text=rec)
    raise TypeError(f"expected CommentRecord or str, got {type(rec).__name__}")


def _rules(rec: CommentRecord, f: Features) -> tuple[float, list[Reason], bool]:
    """Fixed-weight signals the training corpora cannot teach (no such fields in them)."""
    reasons: list[Reason] = []
    hard = False
    if rec.honeypot is not None and _str(rec.honeypot):
        hard = True
        reasons.append(Reason("hidden honeypot field was filled in (a bot)", 8.0))
    secs = rec.seconds_to_submit
    if isinstance(secs, int | float) and math.isfinite(secs) and secs >= 0:
        if secs < 2.0:
            reasons.append(Reason(f"submitted {secs:.1f} s after the form was shown", 3.0))
        elif secs < 5.0 and f.facts["chars"] > 200:
            reasons.append(Reason(f"{f.facts['chars']} characters typed in {secs:.1f} s", 1.5))
    author = _str(rec.author)
    if author:
        bare = _EMAIL_RE.sub(" ", author)
        if URL_RE.search(bare.lower()):
            reasons.append(Reason("author name contains a link", 1.0))
    web = website_host(rec.website)
    if web:
        if is_shortener(web):
            reasons.append(Reason(f"website is a URL shortener ({web})", 1.0))
        elif web.rsplit(".", 1)[-1] in SUSPICIOUS_TLDS:
            reasons.append(
                Reason(f"website on a often-abused domain ending (.{web.rsplit('.', 1)[-1]})", 0.7)
            )
    email = _str(rec.email).lower()
    if "@" in email:
        dom = email.rsplit("@", 1)[1]
        parts = dom.split(".")
        if any(".".join(parts[i:]) in DISPOSABLE_EMAIL for i in range(len(parts) - 1)):
            reasons.append(Reason(f"disposable e-mail domain ({dom})", 0.8))
    ua = rec.user_agent
    if ua is not None:
        ua_s = _str(ua)
        if not ua_s:
            reasons.append(Reason("no browser user agent", 0.7))
        elif _BOT_UA.search(ua_s):
            reasons.append(Reason("submitted by a script, not a browser", 1.5))
    lang = _str(rec.language).lower().split("-")[0].split("_")[0]
    if lang and f.norm is not None and f.facts["letters"] >= 20:
        expected = _LANG_SCRIPTS.get(lang, "Latin")
        t = f.norm.text
        counts = {name: len(rx.findall(t)) for name, rx in _SCRIPTS.items()}
        main = max(counts, key=lambda k: counts[k])
        if (
            main != expected
            and counts[main] > 0.6 * f.facts["letters"]
            and not (expected == "CJK" and main == "Latin")
        ):
            reasons.append(Reason(f"text in {main} script on a page in '{lang}'", 1.0))
    return sum(r.weight for r in reasons), reasons, hard


_DENSE = {name: i for i, name in enumerate(DENSE_NAMES)}


def _quote(matches: list[str], limit: int = 3) -> str:
    """The first few distinct matched words, lower-cased and quoted."""
    seen: list[str] = []
    for m in matches:
        w = " ".join(m.lower().split())
        if w not in seen:
            seen.append(w)
    return ", ".join(f"“{w}”" for w in seen[:limit])


def _dense_reasons(f: Features, c: list[float]) -> list[Reason]:
    """Group the named features into sentences a moderator understands."""
    fa = f.facts
    out: list[Reason] = []

    def add(text: str, *names: str) -> None:
        wt = float(sum(c[_DENSE[n]] for n in names))
        if abs(wt) >= REASON_MIN:
            out.append(Reason(text, round(wt, 3)))

    if fa["links"] or fa["obfuscated"]:
        n = fa["links"] + fa["obfuscated"]
        dom = f" to {_plural(fa['domains'], 'domain')}" if fa["domains"] > 1 else ""
        add(f"{_plural(n, 'link')}{dom}", "has_link", "n_links", "link_text_ratio")
    if fa["shorteners"]:
        add(f"{_plural(fa['shorteners'], 'link')} to a URL shortener", "shortener")
    if fa["suspicious_tld"]:
        add("link to an often-abused domain ending", "suspicious_tld")
    if fa["obfuscated"]:
        add("disguised link (“site . com”)", "obfuscated_link")
    if fa["videos"]:
        add("link to a video", "video_link")
    bait = []
    names = []
    if fa["phones"]:
        bait.append("phone number")
        names.append("phone")
    if fa["shortcodes"]:
        bait.append("SMS short code")
        names.append("shortcode")
    if fa["emails"]:
        bait.append("e-mail address")
        names.append("email_in_text")
    if fa["messengers"]:
        bait.append("messenger handle")
        names.append("messenger")
    if bait:
        add(" and ".join(bait) + " in text", *names)
    if fa["money"]:
        add("money amount in text", "money")
    if fa["letters"] >= 8:
        pct = round(100 * fa["upper"] / fa["letters"])
        add(f"{pct}% capital letters", "caps")
    if fa["exclaim"]:
        add(f"{_plural(fa['exclaim'], 'exclamation mark')}", "exclaim")
    add("many symbols", "symbols")
    add("styled or full-width letters (like 𝗪𝗜𝗡)", "styled")
    add("hidden zero-width characters", "invisible")
    add("look-alike letters from another alphabet", "confusable")
    add("spaced-out letters (“f r e e”)", "spaced")
    if fa["cta"]:
        add(f"call to action: {_quote(f.cues.get('cta', []))}", "call_to_action")
    if fa["lures"]:
        add(f"lure words: {_quote(f.cues.get('lures', []))}", "lure")
    if fa["promos"]:
        add("promotes the author's own channel, page or site", "self_promotion")
    if fa["asks"]:
        add(
            f"asks readers for subscribers, likes or follows: {_quote(f.cues['asks'])}",
            "audience_ask",
        )
    if fa["pictos"]:
        add(f"{_plural(fa['pictos'], 'emoji')}", "pictographs")
    return out
