from __future__ import annotations

import json
import time

from palabre.spam.model import CARD_FILE, MODEL_DIR, WEIGHTS_FILE, LinearModel


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
