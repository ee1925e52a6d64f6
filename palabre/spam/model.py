"""The linear model: frozen weights over hashed + dense features, its thresholds and card."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .features import N_FEATURES, N_HASH

MODEL_DIR = Path(__file__).with_name("model")
WEIGHTS_FILE = "weights.npz"
CARD_FILE = "model_card.json"
# 2 added the IDF weights; version 1 files (no IDF) still load.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Score cut-offs: below ``unsure`` is ham, from ``spam`` is spam, from ``discard`` dropped."""

    unsure: float = 0.5
    spam: float = 0.9
    discard: float = 0.995

    def __post_init__(self) -> None:
        if not 0.0 <= self.unsure <= self.spam <= self.discard <= 1.0:
            raise ValueError("thresholds must satisfy 0 <= unsure <= spam <= discard <= 1")

    @classmethod
    def default(cls) -> Thresholds:
        """The thresholds the shipped model was released with."""
        from .filter import SpamFilter  # late: the shipped model is cached there

        return SpamFilter.load_default().thresholds

    def classify(self, score: float) -> str:
        if score >= self.discard:
            return "discard"
        if score >= self.spam:
            return "spam"
        if score >= self.unsure:
            return "unsure"
        return "ham"


@dataclass(slots=True)
class LinearModel:
    """Weights and bias whose margin is the model's log-odds. Training folds its Platt
    calibration into them (the card's ``calibration`` records slope and offset), so the
    file format is the one uncalibrated models were saved in, and both load alike."""

    w: np.ndarray  # float64 (N_FEATURES,)
    b: float
    thresholds: Thresholds
    card: dict = field(default_factory=dict)
    # (N_HASH,), float16 values: float32 once quantized or loaded (exact, half the memory
    # of float64); None: plain TF.
    idf: np.ndarray | None = None

    @property
    def w_dense(self) -> np.ndarray:
        return self.w[N_HASH:]

    def model_id(self) -> str:
        h = hashlib.sha256(self.w.astype(np.float32).tobytes())
        h.update(np.float64(self.b).tobytes())
        if self.idf is not None:
            h.update(self.idf.astype(np.float16).tobytes())
        return h.hexdigest()[:16]

    def save(self, directory: Path = MODEL_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        # float16 halves the file; the rounding (3 significant digits) is far below what
        # matters for a regularised linear model, and the card metrics are measured after it.
        nz = np.flatnonzero(self.w)
        arrays = {
            "version": np.int64(FORMAT_VERSION),
            "n_features": np.int64(N_FEATURES),
            "idx": nz.astype(np.int32),
            "w": self.w[nz].astype(np.float16),
            "b": np.float64(self.b),
        }
        if self.idf is not None:
            # Buckets never seen in training share one value (the largest): store the rest.
            unseen = float(self.idf.max())
            seen = np.flatnonzero(self.idf != unseen)
            arrays |= {
                "idf_idx": seen.astype(np.int32),
                "idf": self.idf[seen].astype(np.float16),
                "idf_unseen": np.float64(unseen),
            }
        np.savez_compressed(directory / WEIGHTS_FILE, **arrays)
        card = dict(self.card)
        card["thresholds"] = asdict(self.thresholds)
        card["format_version"] = FORMAT_VERSION
        # The id of the weights as they will be read back (float16), so a loaded model and
        # its card agree; the store keys learned-state snapshots on it.
        card["model_id"] = self.quantized().model_id()
        (directory / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
        return directory

    def quantized(self) -> LinearModel:
        """The model exactly as it will be after save/load (float16 weights)."""
        idf = None if self.idf is None else self.idf.astype(np.float16).astype(np.float32)
        return LinearModel(
            self.w.astype(np.float16).astype(np.float64), self.b, self.thresholds, self.card, idf
        )

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> LinearModel:
        wpath, cpath = directory / WEIGHTS_FILE, directory / CARD_FILE
        if not wpath.is_file() or not cpath.is_file():
            raise FileNotFoundError(
                f"no spam model in {directory}: run `palabre spam train` to build one"
            )
        with np.load(wpath, allow_pickle=False) as z:
            if int(z["version"]) not in READABLE_VERSIONS or int(z["n_features"]) != N_FEATURES:
                raise ValueError(f"{wpath}: model format does not match this code; retrain")
            w = np.zeros(N_FEATURES, dtype=np.float64)
            w[z["idx"]] = z["w"].astype(np.float64)
            b = float(z["b"])
            idf = None
            if "idf" in z:
                idf = np.full(N_HASH, float(z["idf_unseen"]), dtype=np.float32)
                idf[z["idf_idx"]] = z["idf"]
        card = json.loads(cpath.read_text())
        return cls(w, b, Thresholds(**card["thresholds"]), card, idf)
