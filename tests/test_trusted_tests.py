"""Trusted scoring (autograder/trusted.py): reference tests here, the student's code in a worker.

Most tests grade the toy notebook of trusted_fixtures.py (the `trusted_grade` fixture); the
last ones check how notebooks 6 and 7's saved models are read and evaluated.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import SandboxLimits
from autograder.trusted.session import WorkerPlan
from autograder.trusted.tests import Verdict, defined_names, load_saved_model, run_trusted_tests
from trusted_fixtures import ANSWER, cell


def test_the_reference_answer_passes_every_test_hidden_ones_included(trusted_grade):
    assert trusted_grade(ANSWER) == {"test_scale": Verdict(True), "test_counter": Verdict(True)}


def test_a_wrong_answer_fails_with_the_checks_message(trusted_grade):
    verdicts = trusted_grade(ANSWER.replace("return x * factor", "return x + factor"))
    assert not verdicts["test_scale"].passed and verdicts["test_counter"].passed
    assert verdicts["test_scale"].message.startswith("CheckFailed: scale")


def test_a_hidden_test_the_submission_never_saw_still_decides(trusted_grade):
    """x + x is right for the visible factor 2 and wrong for the hidden factor -1."""
    verdicts = trusted_grade(ANSWER.replace("return x * factor", "return x + x"))
    assert not verdicts["test_scale"].passed and "scale (hidden)" in verdicts["test_scale"].message
    assert verdicts["test_scale"].hidden
    assert not trusted_grade(ANSWER.replace("return x * factor", "return x + factor"))["test_scale"].hidden


def test_a_name_a_broken_answer_cell_should_define_is_blamed_on_that_cell(trusted_grade):
    """Does a NameError of what an answer cell with a syntax error should define say so, at that cell and line?"""
    verdicts = trusted_grade(ANSWER.replace("    return x * factor", "return x * factor"))
    assert verdicts["test_scale"].message.startswith(
        "the answer cell `task` has a SyntaxError at line 3: 'return' outside function; fix it and rerun "
        "(the test then failed with NameError: name 'scale' is not defined")
    assert verdicts["test_counter"].message.startswith("the answer cell `task` has a SyntaxError at line 3")


def test_a_renamed_function_is_named_with_the_cell_that_should_define_it(trusted_grade):
    """Does a NameError of a function the answer cell no longer defines say which cell should define it?"""
    verdicts = trusted_grade(ANSWER.replace("def scale(", "def scaled("))
    assert verdicts["test_scale"].message == ("NameError: name 'scale' is not defined: the answer cell `task` should "
                                              "define scale (keep the names of the stubs)")


def test_methods_run_in_the_worker_and_the_objects_state_comes_back(trusted_grade):
    verdicts = trusted_grade(ANSWER.replace("self.count += len(values)", "self.count += 2 * len(values)"))
    assert not verdicts["test_counter"].passed and "add" in verdicts["test_counter"].message


def test_patching_numpy_or_the_checks_in_the_notebook_changes_nothing(trusted_grade):
    wrong = ANSWER.replace("return x * factor", "return x + factor")
    patch = ("import nn_helpers.checks as c\nc.check_close = lambda *a, **k: None\ncheck_close = c.check_close\n"
             "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None")
    verdicts = trusted_grade(wrong + "\n" + patch)
    assert not verdicts["test_scale"].passed


def test_an_always_equal_object_or_an_ndarray_subclass_arrives_as_plain_data(trusted_grade):
    always_equal = ANSWER + ("\nclass Anything:\n    def __eq__(self, other):\n        return True\n"
                             "    def __sub__(self, other):\n        return 0\n\n"
                             "def scale(x, factor):\n    return Anything()\n")
    assert not trusted_grade(always_equal)["test_scale"].passed
    subclass = ANSWER + ("\nclass Agreeable(np.ndarray):\n    def __sub__(self, other):\n"
                         "        return np.zeros(np.shape(other))\n\n"
                         "def scale(x, factor):\n    return (x + 1.0).view(Agreeable)\n")
    assert not trusted_grade(subclass)["test_scale"].passed


def test_a_file_the_notebook_saved_is_read_by_its_name_from_the_graders_copy(trusted_grade, tmp_path):
    helper = cell("helper", "files", 'MODEL_FILE = "best_model.npz"')
    tests = {"test_file": 'import os\ncheck_true("file", os.path.exists(MODEL_FILE), f"{MODEL_FILE} is missing")\n'
                          'check_close("saved", np.load(MODEL_FILE)["w"], [1.0, 2.0])'}
    missing = trusted_grade(ANSWER, tests, extra=[helper])["test_file"]
    assert missing.message == "CheckFailed: file: best_model.npz is missing"
    (tmp_path / "saved").mkdir()
    np.savez(tmp_path / "saved" / "best_model.npz", w=np.array([1.0, 2.0]))
    assert trusted_grade(ANSWER, tests, extra=[helper]) == {"test_file": Verdict(True)}
    assert Path.cwd() != tmp_path / "saved"


def test_the_worker_runs_in_the_sandbox(trusted_grade):
    probe = ANSWER.replace('    return x * factor', '    import socket\n'
                           '    socket.create_connection(("1.1.1.1", 80), timeout=2)\n    return x * factor')
    verdicts = trusted_grade(probe, sandbox=True)
    assert verdicts["test_counter"].passed
    assert "OSError" in verdicts["test_scale"].message and "unreachable" in verdicts["test_scale"].message


def test_defined_names_are_the_top_level_definitions():
    assert defined_names(ANSWER + "\nx, (y, z) = 1, (2, 3)\nw: int = 4\n%matplotlib inline") == \
        ["scale", "Counter", "x", "y", "z", "w"]


def test_a_saved_model_is_read_without_pickles_and_checked(tmp_path):
    reference = Path(__file__).resolve().parent.parent / "solutions" / "two_layer_net"
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((6, 4)), "b1": np.zeros(4), "W2": rng.standard_normal((4, 3)), "b2": np.zeros(3)}
    np.savez(tmp_path / "good.npz", **params)
    model = load_saved_model(reference, tmp_path / "good.npz")
    assert model.loss(np.ones((2, 6))).shape == (2, 3)
    np.savez(tmp_path / "pickled.npz", W1=np.array([object()]), b1=np.zeros(4), W2=np.zeros((4, 3)), b2=np.zeros(3))
    with pytest.raises(ValueError, match="pickle"):
        load_saved_model(reference, tmp_path / "pickled.npz")
    np.savez(tmp_path / "shapes.npz", **{**params, "b1": np.zeros(5)})
    with pytest.raises(ValueError, match="W1 \\(D, H\\)"):
        load_saved_model(reference, tmp_path / "shapes.npz")
    with pytest.raises(FileNotFoundError, match="was not saved"):
        load_saved_model(reference, tmp_path / "missing.npz")


def test_notebook_6_evaluates_the_saved_models_with_the_reference_network(tmp_path):
    """A model that memorises the 50 images passes 6.1 and fails 6.2's accuracy; no saved file fails with its name."""
    from nn_helpers.data import get_CIFAR10_data
    reference = Path(__file__).resolve().parent.parent / "solutions" / "two_layer_net" / "6_training_cifar10.ipynb"
    data = get_CIFAR10_data()
    X, y = data["X_train"][:50].reshape(50, -1).astype(np.float64), data["y_train"][:50]
    hidden = np.maximum(X @ X.T, 0)                        # W1 = X.T: one hidden unit per image
    W2 = np.linalg.lstsq(hidden, np.eye(10)[y], rcond=None)[0]
    saved = tmp_path / "saved"
    saved.mkdir()
    np.savez(saved / "overfit_model.npz", W1=X.T, b1=np.zeros(50), W2=W2, b2=np.zeros(10))
    plan = WorkerPlan(tmp_path, SandboxLimits(wall_seconds=60), False, {"PATH": "/usr/bin:/bin"})
    verdicts = run_trusted_tests(reference, plan, saved)
    assert verdicts["test_6_1_overfit"] == Verdict(True)
    assert verdicts["test_6_2_validation_accuracy"].message == \
        "FileNotFoundError: net.npz was not saved: run the training cell and the cell that saves the model, top to bottom"
    (saved / "overfit_model.npz").rename(saved / "net.npz")
    verdicts = run_trusted_tests(reference, plan, saved)
    assert verdicts["test_6_1_overfit"].kind == "FileNotFoundError"
    assert verdicts["test_6_2_validation_accuracy"].message.startswith("CheckFailed: validation accuracy: expected at least 0.5")

