"""Trusted scoring (autograder/trusted.py): reference tests here, the student's code in a worker.

A toy notebook: a locked setup cell, answer cells, test cells whose reference version holds
a hidden check. Workers run as plain child processes (the sandbox has tests of its own);
one test runs them sandboxed, as grading does.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.sandbox import SandboxLimits, sandbox_unavailable
from autograder.trusted import (RemoteError, Verdict, WorkerPlan, defined_names, load_saved_model,
                                run_trusted_tests)

SETUP = "import numpy as np\nfrom nn_helpers.checks import check_close, check_true\n%matplotlib inline"
ANSWER = '''def scale(x, factor):
    """x * factor, elementwise."""
    return x * factor


class Counter:
    def __init__(self, start):
        self.count = start
        self.seen = []

    def add(self, values):
        self.seen.append(values)
        self.count += len(values)
        return self.count
'''
TESTS = {
    "test_scale": 'check_close("scale", scale(np.arange(3.0), 2.0), [0.0, 2.0, 4.0])\n'
                  '### BEGIN HIDDEN TESTS\ncheck_close("scale (hidden)", scale(np.ones((2, 2)), -1.0), -np.ones((2, 2)))\n'
                  '### END HIDDEN TESTS',
    "test_counter": 'counter = Counter(1)\ncheck_close("add", counter.add([1, 2]), 3)\n'
                    'check_close("count", counter.count, 3)\ncheck_true("seen", counter.seen == [[1, 2]], str(counter.seen))',
}


def cell(kind: str, grade_id: str, source: str, points: int = 1):
    metadata = {"grade": kind == "test", "grade_id": grade_id, "locked": kind != "answer",
                "schema_version": 3, "solution": kind == "answer"}
    if kind == "test":
        metadata["points"] = points
    return new_code_cell(source, metadata={"nbgrader": metadata})


def write_notebook(path: Path, answer: str, tests: dict[str, str] = TESTS, extra: list = ()) -> Path:
    cells = [cell("setup", "setup", SETUP), cell("answer", "task", answer), *extra]
    cells += [cell("test", grade_id, source) for grade_id, source in tests.items()]
    nbformat.write(new_notebook(cells=cells), path)
    return path


@pytest.fixture
def grade_toy(tmp_path):
    """grade_toy(student_answer, ...) -> {grade_id: Verdict}, the reference being ANSWER with TESTS."""
    def grade(answer: str, tests: dict[str, str] = TESTS, extra: list = (), sandbox: bool = False,
              seconds: float = 20.0, reference_answer: str = ANSWER) -> dict[str, Verdict]:
        (tmp_path / "reference").mkdir(exist_ok=True)
        reference = write_notebook(tmp_path / "reference" / "toy.ipynb", reference_answer, tests, extra)
        submission = tmp_path / "submission"
        submission.mkdir(exist_ok=True)
        student_tests = {g: s.split("### BEGIN HIDDEN TESTS")[0] for g, s in tests.items()}
        write_notebook(submission / "toy.ipynb", answer, student_tests, extra)
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
               "OMP_NUM_THREADS": "1"}
        plan = WorkerPlan(submission, SandboxLimits(wall_seconds=60, memory_bytes=2 * 2 ** 30), sandbox, env,
                          visible=(Path(__file__).resolve().parent.parent,), test_seconds=seconds)
        return run_trusted_tests(reference, plan, tmp_path / "saved")
    return grade


def test_the_reference_answer_passes_every_test_hidden_ones_included(grade_toy):
    assert grade_toy(ANSWER) == {"test_scale": Verdict(True), "test_counter": Verdict(True)}


def test_a_wrong_answer_fails_with_the_checks_message(grade_toy):
    verdicts = grade_toy(ANSWER.replace("return x * factor", "return x + factor"))
    assert not verdicts["test_scale"].passed and verdicts["test_counter"].passed
    assert verdicts["test_scale"].message.startswith("CheckFailed: scale")


def test_a_hidden_test_the_submission_never_saw_still_decides(grade_toy):
    """x + x is right for the visible factor 2 and wrong for the hidden factor -1."""
    verdicts = grade_toy(ANSWER.replace("return x * factor", "return x + x"))
    assert not verdicts["test_scale"].passed and "scale (hidden)" in verdicts["test_scale"].message
    assert verdicts["test_scale"].hidden
    assert not grade_toy(ANSWER.replace("return x * factor", "return x + factor"))["test_scale"].hidden


def test_methods_run_in_the_worker_and_the_objects_state_comes_back(grade_toy):
    verdicts = grade_toy(ANSWER.replace("self.count += len(values)", "self.count += 2 * len(values)"))
    assert not verdicts["test_counter"].passed and "add" in verdicts["test_counter"].message


def test_patching_numpy_or_the_checks_in_the_notebook_changes_nothing(grade_toy):
    wrong = ANSWER.replace("return x * factor", "return x + factor")
    patch = ("import nn_helpers.checks as c\nc.check_close = lambda *a, **k: None\ncheck_close = c.check_close\n"
             "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None")
    verdicts = grade_toy(wrong + "\n" + patch)
    assert not verdicts["test_scale"].passed


def test_an_always_equal_object_or_an_ndarray_subclass_arrives_as_plain_data(grade_toy):
    always_equal = ANSWER + ("\nclass Anything:\n    def __eq__(self, other):\n        return True\n"
                             "    def __sub__(self, other):\n        return 0\n\n"
                             "def scale(x, factor):\n    return Anything()\n")
    assert not grade_toy(always_equal)["test_scale"].passed
    subclass = ANSWER + ("\nclass Agreeable(np.ndarray):\n    def __sub__(self, other):\n"
                         "        return np.zeros(np.shape(other))\n\n"
                         "def scale(x, factor):\n    return (x + 1.0).view(Agreeable)\n")
    assert not grade_toy(subclass)["test_scale"].passed


def test_an_exception_keeps_its_builtin_class_and_says_where_it_was_raised(grade_toy):
    raising = ANSWER.replace('    return x * factor', '    y = x * factor\n    raise ValueError(f"bad factor {factor}")')
    tests = {"test_scale": 'try:\n    scale(np.ones(2), 3.0)\nexcept ValueError as error:\n'
                           '    raise AssertionError(f"caught: {error}")'}
    verdict = grade_toy(raising, tests)["test_scale"]
    assert verdict.message.startswith("AssertionError: caught: bad factor 3.0")
    uncaught = grade_toy(raising, {"test_scale": "scale(np.ones(2), 3.0)"})["test_scale"]
    assert uncaught.message == "ValueError: bad factor 3.0 [raised in scale, line 4: raise ValueError(f\"bad factor {factor}\")]"


def test_a_function_that_loops_forever_times_out_and_the_next_test_gets_a_fresh_worker(grade_toy):
    looping = ANSWER.replace('    return x * factor', '    while True:\n        pass')
    verdicts = grade_toy(looping, seconds=3.0)
    assert verdicts["test_scale"].kind == "TimeoutError"
    assert verdicts["test_counter"].passed


def test_answer_cells_that_never_finish_fail_every_test_at_once(grade_toy):
    verdicts = grade_toy(ANSWER + "\nwhile True:\n    pass", seconds=3.0)
    assert [v.kind for v in verdicts.values()] == ["TimeoutError", "TimeoutError"]
    assert "answer cells did not finish" in verdicts["test_counter"].message


def test_a_worker_that_exits_is_reported(grade_toy):
    verdicts = grade_toy(ANSWER.replace('    return x * factor', '    import os\n    os._exit(3)'))
    assert verdicts["test_scale"].kind == "WorkerGone" and "exit code 3" in verdicts["test_scale"].message
    assert verdicts["test_counter"].passed


def test_a_name_the_submission_does_not_define_fails_like_in_a_notebook(grade_toy):
    verdicts = grade_toy("def other():\n    pass")
    assert verdicts["test_scale"].message == "NameError: name 'scale' is not defined"


def test_callbacks_rng_and_errstate_behave_as_in_one_process(grade_toy):
    answer = ANSWER + ('\ndef apply(function, values):\n    return [function(v) for v in values]\n\n'
                       'def draw():\n    return np.random.randn(3)\n\n'
                       'def overflow():\n    return np.exp(np.array([1000.0]))\n')
    tests = {
        "test_callback": 'calls = []\nresult = apply(lambda v: calls.append(v) or v * 10, [1, 2])\n'
                         'check_true("callback", result == [10, 20] and calls == [1, 2], f"{result} {calls}")',
        "test_rng": 'np.random.seed(5)\nfirst = draw()\nsecond = np.random.randn(3)\nnp.random.seed(5)\n'
                    'check_close("draws", np.concatenate([first, second]), np.random.randn(6))',
        "test_errstate": 'with np.errstate(over="raise"):\n    try:\n        overflow()\n'
                         '    except FloatingPointError:\n        pass\n    else:\n        raise AssertionError("no overflow")',
    }
    verdicts = grade_toy(answer, tests, reference_answer=answer)
    assert verdicts == {name: Verdict(True) for name in tests}


def test_a_test_helper_object_mutated_by_student_code_comes_back(grade_toy):
    """A locked helper cell's class (the kit's LinearScoresModel pattern): its state syncs, its methods stay ours."""
    helper = cell("helper", "helpers", "class Box:\n    def __init__(self):\n        self.items = {'w': np.zeros(2)}\n")
    answer = ANSWER + "\ndef fill(box):\n    box.items['w'] = box.items['w'] + 1.0\n    box.items['b'] = 7\n"
    tests = {"test_box": 'box = Box()\nfill(box)\ncheck_close("w", box.items["w"], [1.0, 1.0])\n'
                         'check_true("b", box.items["b"] == 7, str(box.items))'}
    sneaky = answer + "\ndef fill(box):\n    box.__init__ = print\n"
    assert grade_toy(answer, tests, extra=[helper], reference_answer=answer) == {"test_box": Verdict(True)}
    assert not grade_toy(sneaky, tests, extra=[helper], reference_answer=answer)["test_box"].passed


def test_a_file_the_notebook_saved_is_read_by_its_name_from_the_graders_copy(grade_toy, tmp_path):
    helper = cell("helper", "files", 'MODEL_FILE = "best_model.npz"')
    tests = {"test_file": 'import os\ncheck_true("file", os.path.exists(MODEL_FILE), f"{MODEL_FILE} is missing")\n'
                          'check_close("saved", np.load(MODEL_FILE)["w"], [1.0, 2.0])'}
    missing = grade_toy(ANSWER, tests, extra=[helper])["test_file"]
    assert missing.message == "CheckFailed: file: best_model.npz is missing"
    (tmp_path / "saved").mkdir()
    np.savez(tmp_path / "saved" / "best_model.npz", w=np.array([1.0, 2.0]))
    assert grade_toy(ANSWER, tests, extra=[helper]) == {"test_file": Verdict(True)}
    assert Path.cwd() != tmp_path / "saved"


@pytest.mark.skipif(sandbox_unavailable() is not None, reason="needs a sandbox (root)")
def test_the_worker_runs_in_the_sandbox(grade_toy):
    probe = ANSWER.replace('    return x * factor', '    import socket\n'
                           '    socket.create_connection(("1.1.1.1", 80), timeout=2)\n    return x * factor')
    verdicts = grade_toy(probe, sandbox=True)
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


def test_remote_errors_print_as_the_student_saw_them():
    from autograder.trusted import remote_error
    error = remote_error({"type": "KeyError", "bases": ["KeyError", "LookupError", "Exception"],
                          "message": "'W3'", "where": "raised in loss, line 3"})
    assert isinstance(error, KeyError) and isinstance(error, RemoteError)
    assert str(error) == "'W3'" and type(error).__name__ == "KeyError" and error.where == "raised in loss, line 3"
