"""A toy notebook for trusted scoring's tests: a locked setup cell, answer cells, test cells.

The reference version of a test holds a hidden part; the student's does not. Workers run as
plain child processes unless a test asks for the sandbox (which has tests of its own).
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from autograder.sandbox import SandboxLimits
from autograder.trusted.session import WorkerPlan
from autograder.trusted.tests import Budget, Verdict, run_trusted_tests

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


def toy_grader(tmp_path: Path):
    """grade(student_answer, ...) -> {grade_id: Verdict}, the reference being ANSWER with TESTS."""
    def grade(answer: str, tests: dict[str, str] = TESTS, extra: list = (), sandbox: bool = False,
              seconds: float = 20.0, reference_answer: str = ANSWER, budget: Budget | None = None) -> dict[str, Verdict]:
        (tmp_path / "reference").mkdir(exist_ok=True)
        reference = write_notebook(tmp_path / "reference" / "toy.ipynb", reference_answer, tests, extra)
        submission = tmp_path / "submission"
        submission.mkdir(exist_ok=True)
        student_tests = {g: s.split("### BEGIN HIDDEN TESTS")[0] for g, s in tests.items()}
        write_notebook(submission / "toy.ipynb", answer, student_tests, extra)
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
               "OMP_NUM_THREADS": "1"}
        plan = WorkerPlan(submission, SandboxLimits(cpu_seconds=60, memory_bytes=2 * 2 ** 30), sandbox, env,
                          test_seconds=seconds)
        return run_trusted_tests(reference, plan, tmp_path / "saved", budget)
    return grade
