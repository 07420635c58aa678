"""Saved model files for the tests of models.py, evaluate.py, saved.py and the trusted tests of notebooks 6 and 7."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

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


def write_bomb(path: Path, member_bytes: int, declared: tuple[int, ...] | None = None, level: int = 1) -> Path:
    """A compressed .npz whose b1 member decompresses to `member_bytes` of zeros after a header declaring
    `declared` (default: the whole member, as float32); the other members are small and right."""
    params = parameters(hidden=50, dtype=np.float32)
    shape = declared if declared is not None else ((member_bytes - 128) // 4,)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for key in ("W1", "W2", "b2"):
            with archive.open(f"{key}.npy", "w") as member:
                npy.write_array(member, params[key])
        with archive.open("b1.npy", "w", force_zip64=True) as member:
            npy.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False, "shape": shape})
            left = member_bytes - 128
            while left > 0:
                member.write(bytes(min(left, 2 ** 24)))
                left -= 2 ** 24
    return path
