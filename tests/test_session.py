"""The grader's end of trusted scoring (autograder/session.py): workers, deadlines, proxies, errors.

Driven through run_trusted_tests on the toy notebook of trusted_fixtures.py.
"""
from __future__ import annotations

import time

import pytest

from autograder.trusted.proxies import RemoteError, remote_error
from autograder.trusted.tests import Verdict
from trusted_fixtures import ANSWER, cell


def test_an_exception_keeps_its_builtin_class_and_says_where_it_was_raised(trusted_grade):
    raising = ANSWER.replace('    return x * factor', '    y = x * factor\n    raise ValueError(f"bad factor {factor}")')
    tests = {"test_scale": 'try:\n    scale(np.ones(2), 3.0)\nexcept ValueError as error:\n'
                           '    raise AssertionError(f"caught: {error}")'}
    verdict = trusted_grade(raising, tests)["test_scale"]
    assert verdict.message.startswith("AssertionError: caught: bad factor 3.0")
    uncaught = trusted_grade(raising, {"test_scale": "scale(np.ones(2), 3.0)"})["test_scale"]
    assert uncaught.message == "ValueError: bad factor 3.0 [raised in scale, line 4: raise ValueError(f\"bad factor {factor}\")]"


def test_a_function_that_loops_forever_times_out_and_the_next_test_gets_a_fresh_worker(trusted_grade):
    """Is a test whose function loops stopped at its 3 s of CPU time, saying so, and the next test served afresh?"""
    looping = ANSWER.replace('    return x * factor', '    while True:\n        pass')
    verdicts = trusted_grade(looping, seconds=3.0)
    assert verdicts["test_scale"] == Verdict(False, "TimeoutError: the student's code used more than 3 s of CPU time "
                                                    "in one test and was stopped", "TimeoutError")
    assert verdicts["test_counter"].passed


@pytest.mark.slow
def test_a_function_that_sleeps_meets_the_wall_clock_backstop(trusted_grade):
    """Is a test whose function sleeps stopped after 10 x its CPU budget on the clock, and said to be waiting?"""
    sleeping = ANSWER.replace('    return x * factor', '    import time\n    time.sleep(600)')
    start = time.monotonic()
    verdicts = trusted_grade(sleeping, seconds=1.5)
    assert verdicts["test_scale"].message == ("TimeoutError: the student's code was stopped after 15 s of wall-clock "
                                              "time in one test without using its CPU budget: it was waiting (sleep, "
                                              "input, a lock)")
    assert verdicts["test_counter"].passed and time.monotonic() - start < 40


def test_answer_cells_that_never_finish_fail_every_test_at_once(trusted_grade):
    """Do answer cells that loop at the top level fail every test with one reason, the worker not retried?"""
    verdicts = trusted_grade(ANSWER + "\nwhile True:\n    pass", seconds=3.0)
    assert [v.kind for v in verdicts.values()] == ["TimeoutError", "TimeoutError"]
    assert verdicts["test_counter"].message == ("TimeoutError: the notebook's answer cells did not finish running "
                                                "within 3 s of CPU time (is there a loop outside a function?), so "
                                                "none of its tests could run")


def test_a_worker_that_exits_is_reported(trusted_grade):
    verdicts = trusted_grade(ANSWER.replace('    return x * factor', '    import os\n    os._exit(3)'))
    assert verdicts["test_scale"].kind == "WorkerGone" and "exit code 3" in verdicts["test_scale"].message
    assert verdicts["test_counter"].passed


def test_a_name_the_submission_does_not_define_fails_like_in_a_notebook(trusted_grade):
    verdicts = trusted_grade("def other():\n    pass")
    assert verdicts["test_scale"].message.startswith("NameError: name 'scale' is not defined")
    assert "should define scale (keep the names of the stubs)" in verdicts["test_scale"].message


def test_callbacks_rng_and_errstate_behave_as_in_one_process(trusted_grade):
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
    verdicts = trusted_grade(answer, tests, reference_answer=answer)
    assert verdicts == {name: Verdict(True) for name in tests}


def test_a_test_helper_object_mutated_by_student_code_comes_back(trusted_grade):
    """A locked helper cell's class (the kit's LinearScoresModel pattern): its state syncs, its methods stay ours."""
    helper = cell("helper", "helpers", "class Box:\n    def __init__(self):\n        self.items = {'w': np.zeros(2)}\n")
    answer = ANSWER + "\ndef fill(box):\n    box.items['w'] = box.items['w'] + 1.0\n    box.items['b'] = 7\n"
    tests = {"test_box": 'box = Box()\nfill(box)\ncheck_close("w", box.items["w"], [1.0, 1.0])\n'
                         'check_true("b", box.items["b"] == 7, str(box.items))'}
    sneaky = answer + "\ndef fill(box):\n    box.__init__ = print\n"
    assert trusted_grade(answer, tests, extra=[helper], reference_answer=answer) == {"test_box": Verdict(True)}
    assert not trusted_grade(sneaky, tests, extra=[helper], reference_answer=answer)["test_box"].passed


def test_remote_errors_print_as_the_student_saw_them():
    """Does a worker's KeyError come back as a KeyError that prints as the student saw it, with where?"""
    error = remote_error({"type": "KeyError", "bases": ["KeyError", "LookupError", "Exception"],
                          "message": "'W3'", "where": "raised in loss, line 3"})
    assert isinstance(error, KeyError) and isinstance(error, RemoteError)
    assert str(error) == "'W3'" and type(error).__name__ == "KeyError" and error.where == "raised in loss, line 3"


def test_a_worker_that_prints_a_lot_does_not_stall(trusted_grade):
    """Megabytes of output from the answer cells must not block the worker (its output goes to a file)."""
    verdicts = trusted_grade(ANSWER + "\nfor _ in range(40):\n    print('x' * 100_000)", seconds=10.0)
    assert verdicts == {"test_scale": Verdict(True), "test_counter": Verdict(True)}
