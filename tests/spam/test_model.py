from __future__ import annotations

import json
import time

import numpy as np

from palabre.spam.features import N_FEATURES, N_HASH
from palabre.spam.model import CARD_FILE, MODEL_DIR, WEIGHTS_FILE, LinearModel, Thresholds


def test_model_files_present_and_small() -> None:
    files = [MODEL_DIR / WEIGHTS_FILE, MODEL_DIR / CARD_FILE]
    assert all(f.is_file() for f in files)
    assert sum(f.stat().st_size for f in MODEL_DIR.iterdir()) <= 20 * 1024 * 1024


def test_model_card_records_data_parameters_metrics() -> None:
    card = json.loads((MODEL_DIR / CARD_FILE).read_text())
    assert {"data", "lambda", "thresholds", "heldout_group_metrics", "model_id"} <= set(card)
    for entry in card["data"]:
        assert len(entry["sha256"]) == 64 and entry["rows"] > 0
    assert {d["file"] for d in card["data"]} >= {
        "youtube_spam_collection.csv",
        "sms_spam_collection.csv",
    }
    for m in card["heldout_group_metrics"].values():
        assert {"roc_auc", "spam_f1", "fpr", "recall", "recall_at_fpr_0_5", "n"} <= set(m)
    th = card["thresholds"]
    assert 0 < th["unsure"] <= th["spam"] <= th["discard"] < 1


def test_model_loads_fast_and_matches_card() -> None:
    t0 = time.perf_counter()
    model = LinearModel.load(MODEL_DIR)
    assert time.perf_counter() - t0 < 1.0
    assert model.model_id() == model.card["model_id"]


def test_idf_survives_save_and_load(tmp_path) -> None:
    rng = np.random.default_rng(3)
    w = np.zeros(N_FEATURES)
    w[rng.integers(0, N_HASH, 50)] = rng.normal(size=50)
    idf = np.full(N_HASH, 9.5)
    idf[rng.integers(0, N_HASH, 200)] = rng.uniform(1.0, 9.0, 200)
    model = LinearModel(w, 0.25, Thresholds(), {}, idf).quantized()
    back = LinearModel.load(model.save(tmp_path))
    assert back.idf is not None and np.array_equal(back.idf, model.idf)
    assert np.array_equal(back.w, model.w) and back.model_id() == model.model_id()
    # The IDF is part of what the model computes, so part of its id.
    assert LinearModel(w, 0.25, Thresholds(), {}).quantized().model_id() != model.model_id()


def test_a_model_saved_without_idf_loads_without_it(tmp_path) -> None:
    w = np.zeros(N_FEATURES)
    w[[5, N_HASH + 1]] = [0.5, 1.0]
    back = LinearModel.load(LinearModel(w, 0.0, Thresholds(), {}).save(tmp_path))
    assert back.idf is None and back.w[5] == 0.5
