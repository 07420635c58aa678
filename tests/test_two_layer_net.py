"""Tests for the reference TwoLayerNet's given methods (notebook 4): save and load."""
from __future__ import annotations

import numpy as np
import pytest

import nn_helpers.notebook_import
from autograder.trusted.models import check_model_file
from autograder.trusted.tests import loading_references
from model_fixtures import REFERENCE


@pytest.fixture(scope="module")
def TwoLayerNet() -> type:
    """The reference TwoLayerNet, loaded from the reference notebook as the grader loads it."""
    with loading_references(REFERENCE):
        return nn_helpers.notebook_import.load_from_notebook("4_two_layer_net.ipynb", "TwoLayerNet")


def test_a_saved_model_loads_back_unchanged(TwoLayerNet, tmp_path):
    """Does load() give a model of the same sizes the parameters save() wrote, names, values and dtypes alike?"""
    np.random.seed(0)
    trained = TwoLayerNet(input_dim=12, hidden_dim=5, num_classes=3, weight_scale=0.1, dtype=np.float32)
    trained.params["b1"] += 0.5   # biases that are not zero: a lost parameter would show
    trained.save(tmp_path / "net.npz")
    loaded = TwoLayerNet(input_dim=12, hidden_dim=5, num_classes=3).load(tmp_path / "net.npz")
    assert list(loaded.params) == ["W1", "b1", "W2", "b2"]
    for name, value in trained.params.items():
        assert loaded.params[name].dtype == value.dtype and np.array_equal(loaded.params[name], value)
    X = np.random.randn(4, 12)
    assert np.array_equal(loaded.loss(X), trained.loss(X))


def test_a_saved_model_is_a_file_the_grader_accepts(TwoLayerNet, tmp_path):
    """Does save() write what the grader reads from net.npz and best_model.npz (W1, b1, W2, b2 of a CIFAR-10 net)?"""
    TwoLayerNet(hidden_dim=7, dtype=np.float32).save(tmp_path / "best_model.npz")
    declared = check_model_file(tmp_path / "best_model.npz")
    assert {name: shape for name, (shape, _) in declared.items()} == {
        "W1": (3072, 7), "b1": (7,), "W2": (7, 10), "b2": (10,)}


def test_arrays_of_other_names_are_refused_with_the_fix(TwoLayerNet, tmp_path):
    """Does a file saved without names (np.savez(path, *arrays)) fail, naming the arrays it holds and how to save?"""
    model = TwoLayerNet(input_dim=12, hidden_dim=5, num_classes=3)
    np.savez(tmp_path / "net.npz", *model.params.values())
    with pytest.raises(ValueError, match=r"holds the arrays \['arr_0', 'arr_1', 'arr_2', 'arr_3'\]; this model's "
                                         r"parameters are \['W1', 'b1', 'W2', 'b2'\]\. Fix: save the model with "
                                         r"model\.save\(path\)"):
        TwoLayerNet(input_dim=12, hidden_dim=5, num_classes=3).load(tmp_path / "net.npz")


def test_arrays_of_other_shapes_are_refused_with_the_sizes_to_use(TwoLayerNet, tmp_path):
    """Does loading into a model of another hidden size fail, naming each wrong shape and the model to create?"""
    original = TwoLayerNet(input_dim=12, hidden_dim=5, num_classes=3)
    original.save(tmp_path / "net.npz")
    other = TwoLayerNet(input_dim=12, hidden_dim=8, num_classes=3)
    with pytest.raises(ValueError, match=r"W1 \(12, 5\) \(this model's: \(12, 8\)\); b1 \(5,\) \(this model's: \(8,\)\); "
                                         r"W2 \(5, 3\) \(this model's: \(8, 3\)\)\. Fix: create the model with the saved "
                                         r"sizes: TwoLayerNet\(input_dim=12, hidden_dim=5, num_classes=3\)"):
        other.load(tmp_path / "net.npz")
    assert other.params["W1"].shape == (12, 8)   # a refused file changes nothing
