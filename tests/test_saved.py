"""Tests for autograder.trusted.saved: the stand-ins the reference tests hold for saved models."""
from __future__ import annotations

import numpy
import numpy as np
import pytest

from autograder.trusted.evaluate import SavedModelError
from autograder.trusted.models import MAX_FILE_BYTES
from autograder.trusted.saved import (ReferenceModelClass, SavedFile, SavedModel, SavedParameter, SavedParameters,
                                      NumpyForTests, bind_saved_files, copy_saved_files)
from autograder.trusted.tests import loading_references
from model_fixtures import REFERENCE, parameters, reference_scores, write_bomb
import nn_helpers.notebook_import

def reference_network() -> type:
    """The reference TwoLayerNet, loaded as the grader loads it."""
    with loading_references(REFERENCE):
        return nn_helpers.notebook_import.load_from_notebook("4_two_layer_net.ipynb", "TwoLayerNet")


IMAGES = np.random.default_rng(2).standard_normal((3, 3072)).astype(np.float32)


@pytest.fixture
def model_file(tmp_path):
    params = parameters(hidden=8)
    np.savez(tmp_path / "best_model.npz", **params)
    return tmp_path / "best_model.npz", params


def test_a_saved_model_gives_the_scores_of_the_evaluation_process(model_file):
    """Does SavedModel.loss(X) return the reference network's scores for the saved parameters?"""
    path, params = model_file
    assert np.allclose(SavedModel(REFERENCE, path).loss(IMAGES), reference_scores(params, IMAGES))


def test_a_model_that_was_not_saved_says_how_to_save_it(tmp_path):
    """Does a missing file fail with its name and what to run?"""
    with pytest.raises(FileNotFoundError, match="net.npz was not saved: run the training cell"):
        SavedModel(REFERENCE, tmp_path / "net.npz").loss(IMAGES)


def test_np_load_of_a_saved_file_gives_declared_shapes_and_no_data(model_file):
    """Does the tests' np.load of a SavedFile give W1..b2 as shapes and dtypes only, and of anything else NumPy's?"""
    path, params = model_file
    test_numpy = NumpyForTests(REFERENCE)
    with test_numpy.load(SavedFile(path)) as saved:
        assert list(saved) == ["W1", "b1", "W2", "b2"]
        assert isinstance(saved["W1"], SavedParameter) and saved["W1"].shape == (3072, 8)
        assert saved["b2"].dtype == np.float64 and saved["W2"].ndim == 2
    with test_numpy.load(str(path)) as real:   # not a SavedFile: NumPy's own np.load
        assert np.array_equal(real["W1"], params["W1"])
    assert test_numpy.argmax is numpy.argmax and test_numpy.ndarray is numpy.ndarray


def test_a_refused_file_fails_np_load_with_the_reason(tmp_path):
    """Does np.load of a decompression bomb fail with the reason, in the test, before anything is decompressed?"""
    write_bomb(tmp_path / "best_model.npz", 2 ** 20, declared=(2 ** 29,))
    with pytest.raises(SavedModelError, match="b1 declares shape"):
        NumpyForTests(REFERENCE).load(SavedFile(tmp_path / "best_model.npz"))


def test_a_reference_net_given_saved_parameters_is_evaluated_from_the_file(model_file):
    """Does the reference TwoLayerNet, given SavedParameters as params, score as the saved model (test 7.2's way),
    and behave as itself given real arrays?"""
    path, params = model_file
    network_class = ReferenceModelClass(reference_network(), REFERENCE)
    saved = SavedParameters(REFERENCE, path)
    model = network_class(input_dim=saved["W1"].shape[0], hidden_dim=saved["W1"].shape[1], num_classes=10)
    model.params = {name: saved[name] for name in ("W1", "b1", "W2", "b2")}
    assert np.allclose(model.loss(IMAGES), reference_scores(params, IMAGES))
    model.params = dict(params)
    assert np.allclose(model.loss(IMAGES), reference_scores(params, IMAGES))
    model.params = {**{name: saved[name] for name in ("W1", "b1", "W2")}, "b2": params["b2"]}
    with pytest.raises(TypeError, match="W1, b1, W2 and b2 of one saved file"):
        model.loss(IMAGES)


def test_numpy_and_the_reference_class_are_replaced_only_where_a_saved_file_is_named(tmp_path):
    """Are np and TwoLayerNet replaced in a namespace naming a saved model file, and left alone elsewhere?"""
    network = reference_network()
    plain = {"np": numpy, "TwoLayerNet": network, "FILE": "other.npz"}
    bind_saved_files(plain, tmp_path, REFERENCE)
    assert plain == {"np": numpy, "TwoLayerNet": network, "FILE": "other.npz"}
    naming = {"np": numpy, "TwoLayerNet": network, "BEST_MODEL_FILE": "best_model.npz"}
    bind_saved_files(naming, tmp_path, REFERENCE)
    assert isinstance(naming["np"], NumpyForTests) and isinstance(naming["TwoLayerNet"], ReferenceModelClass)
    assert naming["BEST_MODEL_FILE"].path == tmp_path / "best_model.npz"
    assert f"{naming['BEST_MODEL_FILE']}" == "best_model.npz"


def test_only_model_files_are_copied_and_never_more_than_a_model_may_take(tmp_path):
    """Are only the three model names copied, links left behind, and an oversize file cut just past the limit?"""
    run, copy = tmp_path / "run", tmp_path / "copy"
    run.mkdir()
    copy.mkdir()
    np.savez(run / "net.npz", **parameters())
    with open(run / "best_model.npz", "wb") as handle:
        handle.truncate(4 * MAX_FILE_BYTES)
    (run / "other.npz").write_bytes(b"x")
    (run / "overfit_model.npz").symlink_to(run / "net.npz")
    copy_saved_files(run, copy)
    assert sorted(p.name for p in copy.iterdir()) == ["best_model.npz", "net.npz"]
    assert (copy / "best_model.npz").stat().st_size == MAX_FILE_BYTES + 1
