"""Metrics shared by training (held-out-group figures on the model card) and evaluation."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

METRIC_KEYS = ("roc_auc", "spam_f1", "fpr", "recall", "recall_at_fpr_0_5", "n")


def metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float | int | None]:
    y = np.asarray(y, dtype=int)
    scores = np.asarray(scores, dtype=float)
    n = int(y.size)
    pos, neg = int(y.sum()), int(n - y.sum())
    pred = scores >= threshold
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = pos - tp
    both = pos > 0 and neg > 0
    auc = float(roc_auc_score(y, scores)) if both else None
    r_at = None
    if both:
        fpr_c, tpr_c, _ = roc_curve(y, scores)
        r_at = float(tpr_c[fpr_c <= 0.005].max())
    f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0
    return {
        "roc_auc": rounded(auc),
        "spam_f1": rounded(f1),
        "fpr": rounded(fp / neg) if neg else None,
        "recall": rounded(tp / pos) if pos else None,
        "recall_at_fpr_0_5": rounded(r_at),
        "n": n,
    }


def rounded(x: float | None) -> float | None:
    return None if x is None else round(float(x), 5)
