"""Evaluation protocols: shipped, cross, lovo (leave one source out) and stream.

``fpr`` and ``recall`` are always measured at the spam threshold the model ships with
(chosen on its own training data), never at one picked on the test data.
``recall_at_fpr_0_5`` is the one oracle figure: the best recall any threshold reaches at
<= 0.5 % FPR on the test data, to separate ranking quality from calibration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .data import MAX_TRAIN_CHARS, Example
from .features import without_page_links
from .filter import CommentRecord, SpamFilter
from .metrics import METRIC_KEYS, metrics, rounded
from .state import SiteState
from .train import LAMBDAS, Dataset, featurize, train

Progress = Callable[[int], None]
STREAM_CHECKPOINTS = (0, 25, 50, 100, 200)


def records(rows: Sequence[Example]) -> list[CommentRecord]:
    return [
        CommentRecord(text=r.text, author=r.author or None, permalink=r.permalink or None)
        for r in rows
    ]


def dataset(rows: Sequence[Example], progress: Progress | None = None) -> Dataset:
    # The filter drops links to the commented page before it looks at a text: so does
    # training, or the model would learn what such links say from rows it never sees.
    texts = [without_page_links(r.text, r.permalink)[:MAX_TRAIN_CHARS] for r in rows]
    return Dataset(
        X=featurize(texts, progress),
        y=np.array([r.label for r in rows]),
        groups=np.array([r.source for r in rows]),
        corpus=np.array([r.corpus for r in rows]),
        texts=texts,
    )


def train_filter(
    rows: Sequence[Example],
    progress: Progress | None = None,
    lambdas: Sequence[float] = LAMBDAS,
) -> SpamFilter:
    model = train(dataset(rows, progress), lambdas=lambdas, progress=progress)
    # Evaluate exactly what would be shipped: float16 weights as written to disk.
    return SpamFilter(model.quantized())


def score_rows(
    filt: SpamFilter, rows: Sequence[Example], progress: Progress | None = None
) -> np.ndarray:
    out = np.empty(len(rows))
    recs = records(rows)
    step = 200
    for i in range(0, len(recs), step):
        vs = filt.check_many(recs[i : i + step])
        out[i : i + len(vs)] = [v.score for v in vs]
        if progress is not None:
            progress(len(vs))
    return out


def evaluate(filt: SpamFilter, rows: Sequence[Example], progress: Progress | None = None) -> dict:
    scores = score_rows(filt, rows, progress)
    res = metrics(np.array([r.label for r in rows]), scores, filt.thresholds.spam)
    res["threshold"] = filt.thresholds.spam
    return res


def protocol_shipped(rows: Sequence[Example], progress: Progress | None = None) -> dict:
    return evaluate(SpamFilter.load_default(), rows, progress)


def protocol_cross(
    train_rows: Sequence[Example],
    test_rows: Sequence[Example],
    progress: Progress | None = None,
    lambdas: Sequence[float] = LAMBDAS,
) -> dict:
    filt = train_filter(train_rows, progress, lambdas)
    return evaluate(filt, test_rows, progress)


def protocol_lovo(
    rows: Sequence[Example], progress: Progress | None = None, lambdas: Sequence[float] = LAMBDAS
) -> dict:
    sources = sorted({r.source for r in rows})
    if len(sources) < 2:
        raise ValueError("lovo needs at least two distinct values in the `source` column")
    folds: dict[str, dict] = {}
    for src in sources:
        train_rows = [r for r in rows if r.source != src]
        test_rows = [r for r in rows if r.source == src]
        folds[src] = protocol_cross(train_rows, test_rows, progress, lambdas)
    res: dict = {}
    for k in METRIC_KEYS[:-1]:
        vals = [f[k] for f in folds.values() if f[k] is not None]
        res[k] = rounded(float(np.mean(vals))) if vals else None
    res["n"] = sum(f["n"] for f in folds.values())
    res["folds"] = folds
    return res


def protocol_stream(
    filt: SpamFilter, test_rows: Sequence[Example], progress: Progress | None = None
) -> dict:
    """Score each comment, then learn its label, in file order, as a moderated site would."""
    state = SiteState()
    recs = records(test_rows)
    y = np.array([r.label for r in test_rows])
    scores = np.empty(len(recs))
    for i, rec in enumerate(recs):
        scores[i] = filt.check(rec, state=state).score
        filt.learn(rec, is_spam=bool(y[i]), state=state)
        if progress is not None and i % 50 == 49:
            progress(50)
    if progress is not None:
        progress(len(recs) % 50)
    th = filt.thresholds.spam
    res = metrics(y, scores, th)
    res["threshold"] = th
    curve = []
    for k in STREAM_CHECKPOINTS:
        if k >= len(recs):
            break
        m = metrics(y[k:], scores[k:], th)
        curve.append({"after": k, **m})
    res["curve"] = curve
    return res
