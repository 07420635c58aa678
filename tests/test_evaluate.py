"""Tests for autograder.trusted.evaluate: saved models read and evaluated in a bounded process of their own."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.trusted.evaluate import EvaluationLimits, SavedModelError, evaluate_saved
from model_fixtures import REFERENCE, parameters, reference_scores, write_bomb


def test_the_child_gives_the_reference_networks_scores_and_the_declared_shapes(tmp_path):
    """Are the scores those of the reference TwoLayerNet (affine, ReLU, affine) for the model saved, in float64?"""
    params = parameters(hidden=6, dtype=np.float32)
    np.savez(tmp_path / "net.npz", **params)
    images = np.random.default_rng(1).standard_normal((4, 3, 32, 32)).astype(np.float32)
    declared, scores = evaluate_saved(REFERENCE, tmp_path / "net.npz", images)
    assert declared == {"W1": ((3072, 6), "<f4"), "b1": ((6,), "<f4"), "W2": ((6, 10), "<f4"), "b2": ((10,), "<f4")}
    assert scores.dtype == np.float64 and scores.shape == (4, 10)
    assert np.allclose(scores, reference_scores(params, images), atol=1e-4)
    assert evaluate_saved(REFERENCE, tmp_path / "net.npz")[1] is None


def test_a_refused_file_is_an_error_with_the_reason(tmp_path):
    """Does a file the checks refuse (a b1 declared as 2 GiB) raise SavedModelError saying why?"""
    write_bomb(tmp_path / "bomb.npz", 2 ** 20, declared=(2 ** 29,))
    with pytest.raises(SavedModelError, match=r"bomb.npz: b1 declares shape \(536870912,\)"):
        evaluate_saved(REFERENCE, tmp_path / "bomb.npz", np.zeros((1, 3072)))


def test_the_child_is_bounded_in_memory_and_time(tmp_path):
    """Is a child that needs more than its memory cap, its CPU time or its wall clock stopped with the reason?"""
    np.savez(tmp_path / "net.npz", **parameters(hidden=4096))
    images = np.zeros((2000, 3072))
    with pytest.raises(SavedModelError, match="ran out of its 0.25 GiB of memory"):
        evaluate_saved(REFERENCE, tmp_path / "net.npz", images, EvaluationLimits(memory_bytes=2 ** 28))
    with pytest.raises(SavedModelError, match="ran past its 1 s of CPU time"):
        evaluate_saved(REFERENCE, tmp_path / "net.npz", images, EvaluationLimits(cpu_seconds=1))
    with pytest.raises(SavedModelError, match="ran past 0.01 s and was stopped"):
        evaluate_saved(REFERENCE, tmp_path / "net.npz", images, EvaluationLimits(wall_seconds=0.01))
