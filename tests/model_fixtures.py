"""Saved model files for the tests of models.py, evaluate.py, saved.py and the trusted tests of notebooks 6 and 7."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.quality.grader_attacks import write_npz_bomb

REFERENCE = Path(__file__).resolve().parent.parent / "solutions" / "two_layer_net"


def parameters(hidden: int = 5, dtype=np.float64, seed: int = 0) -> dict[str, np.ndarray]:
    """Small random parameters of a two-layer net for CIFAR-10 (3072 inputs, 10 classes)."""
    rng = np.random.default_rng(seed)
    return {"W1": (rng.standard_normal((3072, hidden)) * 0.01).astype(dtype), "b1": rng.standard_normal(hidden).astype(dtype),
            "W2": rng.standard_normal((hidden, 10)).astype(dtype), "b2": rng.standard_normal(10).astype(dtype)}


def reference_scores(params: dict, images: np.ndarray) -> np.ndarray:
    """What the reference TwoLayerNet's loss(X) computes: affine, ReLU, affine."""
    flat = images.reshape(len(images), -1)
    return np.maximum(flat @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]


def write_bomb(path: Path, member_bytes: int, declared: tuple[int, ...] | None = None) -> Path:
    """A compressed .npz whose b1 decompresses to `member_bytes` of zeros after a header declaring `declared`
    (the attack catalogue's, compressed fast: a few MB instead of one)."""
    return write_npz_bomb(path, member_bytes, declared, level=1)
