from __future__ import annotations

import numpy as np

from palabre.spam.data import read_csv
from palabre.spam.evaluate import dataset
from palabre.spam.features import N_FEATURES, N_HASH, extract
from palabre.spam.train import (
    featurize,
    fit_calibration,
    fit_linear,
    idf_weights,
    one_se_lambda,
    platt_scaling,
    prior_vector,
    sample_weights,
    site_groups,
    text_fold,
    train,
)

from .conftest import spam_data


def test_training_is_reproducible() -> None:
    rows = read_csv(spam_data("youtube_spam_collection.csv"), limit=200)
    a = train(dataset(rows), lambdas=(1e-5,))
    b = train(dataset(rows), lambdas=(1e-5,))
    assert np.array_equal(a.w, b.w) and a.b == b.b
    assert a.thresholds == b.thresholds
    assert a.quantized().model_id() == b.quantized().model_id()
    assert a.card["calibration"] == b.card["calibration"]
    assert a.card["calibration"]["slope"] > 0


def test_duplicates_share_a_fold_and_pure_sources_merge() -> None:
    assert text_fold("Check my channel!", 5) == text_fold("  check MY channel! ", 5)
    groups = np.array(["sa:spam-1", "sa:spam-1", "sa:ham", "sa:ham", "yt:a", "yt:a"])
    y = np.array([1, 1, 0, 0, 0, 1])
    assert site_groups(groups, y).tolist() == ["sa", "sa", "sa", "sa", "yt:a", "yt:a"]


def test_one_se_rule_prefers_the_stronger_of_equally_good_lambdas() -> None:
    scores = {1e-6: 0.990, 1e-5: 0.992, 1e-4: 0.9915, 1e-3: 0.985}
    assert one_se_lambda(scores, se=0.001) == 1e-4
    assert one_se_lambda(scores, se=0.0) == 1e-5
    assert one_se_lambda(scores, se=0.01) == 1e-3


def test_fit_keeps_prior_of_unseen_signals_and_warm_start_agrees() -> None:
    rows = read_csv(spam_data("youtube_spam_collection.csv"), limit=300)
    ds = dataset(rows)
    sw = sample_weights(ds.y, ds.corpus)
    cold = fit_linear(ds.X, ds.y, sw, 1e-4)
    warm = fit_linear(ds.X, ds.y, sw, 1e-4, warm=fit_linear(ds.X, ds.y, sw, 1e-3))
    m_cold, m_warm = ds.X @ cold[0] + cold[1], ds.X @ warm[0] + warm[1]
    assert np.max(np.abs(m_cold - m_warm)) < 0.05
    prior = prior_vector()
    unseen = [
        j for j in range(N_HASH, N_FEATURES) if ds.X[:, j].count_nonzero() == 0 and prior[j] != 0
    ]
    assert unseen and np.allclose(cold[0][unseen], prior[unseen])


def test_platt_scaling_recovers_the_log_odds_of_a_scaled_margin() -> None:
    rng = np.random.default_rng(0)
    true_log_odds = rng.normal(0.0, 3.0, 20_000)
    y = (rng.random(true_log_odds.size) < 1 / (1 + np.exp(-true_log_odds))).astype(int)
    slope, offset = platt_scaling((true_log_odds - 1.0) / 3.0, y)
    assert abs(slope - 3.0) < 0.2 and abs(offset - 1.0) < 0.15


def test_calibration_is_the_median_group_not_the_odd_one() -> None:
    rng = np.random.default_rng(1)
    parts, labels, folds = [], [], []
    # Five groups whose margins are a third of the log-odds, one whose margins say little.
    for group, factor in enumerate((1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 3.0)):
        z = rng.normal(0.0, 3.0, 2_000)
        labels.append((rng.random(z.size) < 1 / (1 + np.exp(-z))).astype(int))
        parts.append(z * factor)
        folds.append(np.full(z.size, group))
    slope, offset = fit_calibration(np.concatenate(parts), np.concatenate(labels),
                                    np.concatenate(folds))  # fmt: skip
    assert abs(slope - 3.0) < 0.3 and abs(offset) < 0.3
    one_class = np.zeros(10, dtype=int)
    assert fit_calibration(np.arange(10.0), one_class, one_class) == (1.0, 0.0)


def test_idf_weighs_rare_ngrams_above_common_ones() -> None:
    texts = ["the cat sat", "the dog ran", "the bird flew", "a cat again"]
    idf = idf_weights(featurize(texts))
    the, cat, bird = (int(extract(w).word_idx[0]) for w in ("the", "cat", "bird"))
    unseen = int(extract("zyxwvut").word_idx[0])
    assert idf[the] < idf[cat] < idf[bird] < idf[unseen]
    # Featurised with it, "the" weighs less in a text than "cat" does.
    f = extract("the cat", idf)
    val = dict(zip(f.idx.tolist(), f.val.tolist(), strict=True))
    assert val[the] < val[cat]
