from __future__ import annotations

import numpy as np

from palabre.spam.data import read_csv
from palabre.spam.evaluate import dataset
from palabre.spam.train import site_groups, text_fold, train

from .conftest import spam_data


def test_training_is_reproducible() -> None:
    rows = read_csv(spam_data("youtube_spam_collection.csv"), limit=200)
    a = train(dataset(rows), lambdas=(1e-5,))
    b = train(dataset(rows), lambdas=(1e-5,))
    assert np.array_equal(a.w, b.w) and a.b == b.b
    assert a.thresholds == b.thresholds
    assert a.quantized().model_id() == b.quantized().model_id()


def test_duplicates_share_a_fold_and_pure_sources_merge() -> None:
    assert text_fold("Check my channel!", 5) == text_fold("  check MY channel! ", 5)
    groups = np.array(["sa:spam-1", "sa:spam-1", "sa:ham", "sa:ham", "yt:a", "yt:a"])
    y = np.array([1, 1, 0, 0, 0, 1])
    assert site_groups(groups, y).tolist() == ["sa", "sa", "sa", "sa", "yt:a", "yt:a"]
