"""Trusted scoring (autograder/trusted.py): reference tests here, the student's code in a worker.

Most tests grade the toy notebook of trusted_fixtures.py (the `trusted_grade` fixture); the
last ones check how notebooks 6 and 7's saved models are read and evaluated.
"""
from __future__ import annotations

import resource
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import WALL_FACTOR, SandboxLimits
from autograder.trusted.session import WorkerPlan
from autograder.trusted.tests import BUDGET_SPENT, Budget, Verdict, defined_names, run_trusted_tests
from model_fixtures import parameters, write_bomb
from trusted_fixtures import ANSWER, TESTS, cell


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


def test_the_lines_passing_checks_print_stay_in_the_grader(trusted_grade, capfd):
    """Do the checks' passing lines (the hidden part's too) go nowhere when the grader runs the tests?"""
    assert trusted_grade(ANSWER)["test_scale"].passed
    printed = capfd.readouterr()
    assert "scale" not in printed.out + printed.err


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
    """Does a test's name for a saved model lead to the grader's copy (read as declared shapes), and print as
    the notebook's name for it?"""
    helper = cell("helper", "files", 'MODEL_FILE = "best_model.npz"')
    tests = {"test_file": 'import os\ncheck_true("file", os.path.exists(MODEL_FILE), f"{MODEL_FILE} is missing")\n'
                          'with np.load(MODEL_FILE) as saved:\n'
                          '    check_true("shape", saved["W1"].shape == (3072, 5), str(saved["W1"].shape))'}
    missing = trusted_grade(ANSWER, tests, extra=[helper])["test_file"]
    assert missing.message == "CheckFailed: file: best_model.npz is missing"
    (tmp_path / "saved").mkdir()
    np.savez(tmp_path / "saved" / "best_model.npz", W1=np.zeros((3072, 5)), b1=np.zeros(5), W2=np.zeros((5, 10)),
             b2=np.zeros(10))
    assert trusted_grade(ANSWER, tests, extra=[helper]) == {"test_file": Verdict(True)}
    assert Path.cwd() != tmp_path / "saved"


@pytest.mark.sandbox
def test_the_worker_runs_in_the_sandbox(trusted_grade):
    probe = ANSWER.replace('    return x * factor', '    import socket\n'
                           '    socket.create_connection(("1.1.1.1", 80), timeout=2)\n    return x * factor')
    verdicts = trusted_grade(probe, sandbox=True)
    assert verdicts["test_counter"].passed
    assert "OSError" in verdicts["test_scale"].message and "unreachable" in verdicts["test_scale"].message


def test_defined_names_are_the_top_level_definitions():
    assert defined_names(ANSWER + "\nx, (y, z) = 1, (2, 3)\nw: int = 4\n%matplotlib inline") == \
        ["scale", "Counter", "x", "y", "z", "w"]


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
    plan = WorkerPlan(tmp_path, SandboxLimits(cpu_seconds=60), False, {"PATH": "/usr/bin:/bin"})
    verdicts = run_trusted_tests(reference, plan, saved)
    assert verdicts["test_6_1_overfit"] == Verdict(True)
    assert verdicts["test_6_2_validation_accuracy"].message == \
        "FileNotFoundError: net.npz was not saved: run the training cell and the cell that saves the model, top to bottom"
    (saved / "overfit_model.npz").rename(saved / "net.npz")
    verdicts = run_trusted_tests(reference, plan, saved)
    assert verdicts["test_6_1_overfit"].kind == "FileNotFoundError"
    assert verdicts["test_6_2_validation_accuracy"].message.startswith("CheckFailed: validation accuracy: expected at least 0.5")



def test_the_budget_bounds_all_tests_together_and_says_so(trusted_grade):
    """With every call sleeping, do three tests of 0.5 CPU-s under a 0.8 CPU-s budget end by the budget's wall-clock
    backstop (10x), the first timing out, the second cut by the budget and the third failing at once, each saying why?"""
    sleepy = ANSWER.replace("    return x * factor", "    import time\n    time.sleep(100)") \
                   .replace("        self.seen.append(values)", "        import time\n        time.sleep(100)")
    tests = {"test_a": TESTS["test_scale"], "test_b": TESTS["test_scale"], "test_c": TESTS["test_counter"]}
    start = time.monotonic()
    verdicts = trusted_grade(sleepy, tests, seconds=0.5, budget=Budget(0.8))
    elapsed = time.monotonic() - start
    assert [v.kind for v in verdicts.values()] == ["TimeoutError", BUDGET_SPENT, BUDGET_SPENT]
    assert "waiting" in verdicts["test_a"].message
    assert verdicts["test_b"].message == f"{BUDGET_SPENT}: the grader's budget for running your functions (0.8 s of " \
                                         "CPU time) ran out during this test"
    assert verdicts["test_c"].message.endswith("(0.8 s of CPU time) was used up by earlier tests")
    assert elapsed < 0.8 * WALL_FACTOR + 5.0, f"took {elapsed:.1f} s"


def test_a_budget_left_unspent_changes_nothing(trusted_grade):
    """Does a budget that is not used up leave every verdict as it would be without one?"""
    assert trusted_grade(ANSWER, budget=Budget(60.0)) == {"test_scale": Verdict(True), "test_counter": Verdict(True)}


def test_notebook_7_evaluates_the_saved_model_elsewhere_and_refuses_what_would_stall_the_grader(tmp_path):
    """Does test 7.2 score best_model.npz through the evaluation process (a random model fails its threshold with
    the accuracy seen), and fail a decompression bomb, a float128 model and a huge hidden layer with the reason,
    the grader's peak memory growing by far less than any of them would take?"""
    reference = Path(__file__).resolve().parent.parent / "solutions" / "two_layer_net" / "7_hyperparameter_search.ipynb"
    plan = WorkerPlan(tmp_path, SandboxLimits(cpu_seconds=60), False, {"PATH": "/usr/bin:/bin"})
    files = {"random": parameters(hidden=20), "float128": {**parameters(), "W1": np.zeros((3072, 5), np.longdouble)},
             "huge": {**parameters(), "W1": np.zeros((3072, 5000), np.float32), "b1": np.zeros(5000, np.float32),
                      "W2": np.zeros((5000, 10), np.float32)}}
    messages = {}
    for name in ("random", "float128", "huge", "bomb"):
        saved = tmp_path / name
        saved.mkdir()
        if name == "bomb":
            write_bomb(saved / "best_model.npz", 256 * 2 ** 20, declared=(2 ** 26,))   # 256 MiB from about 1 MB
        else:
            np.savez(saved / "best_model.npz", **files[name])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # kB; the first run loads CIFAR-10
        messages[name] = run_trusted_tests(reference, plan, saved)["test_7_2_saved_model"].message
        assert name == "random" or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024, name
    assert messages["random"].startswith("CheckFailed: validation accuracy of the saved model: expected at least 0.52")
    assert messages["float128"] == "SavedModelError: best_model.npz: W1 is of dtype float128; parameters must be " \
                                   "float32 or float64"
    assert "saw W1 (3072, 5000)" in messages["huge"]
    assert messages["bomb"].startswith("SavedModelError: best_model.npz: b1 declares shape (67108864,) (256 MiB)")


def test_an_error_of_the_students_code_gets_its_likely_cause(trusted_grade):
    """Does a mismatched matrix product raised in the student's function say where, and what usually causes it?"""
    verdicts = trusted_grade(ANSWER.replace("return x * factor", "return np.ones((2, 3)) @ np.ones((2, 3))"))
    message = verdicts["test_scale"].message
    assert message.startswith("ValueError: matmul") and "[raised in scale, line 3" in message, message
    assert message.endswith("\n  Likely cause: the inner sizes of a matrix product differ, (n, k) @ (k, m): "
                            "an operand needs a transpose (.T) or a reshape")
