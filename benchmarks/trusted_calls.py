"""Benchmark: what one call of a student's function costs in trusted scoring.

    .venv/bin/python benchmarks/trusted_calls.py [--calls 1000] [--rounds 5] [--no-sandbox]

A numerical gradient check in trusted scoring calls the student's code once per
perturbed entry (notebook 2's softmax check: about 1,000 calls), each a request to the
sandboxed worker (trusted/session.py). This times a test cell that makes `--calls` such
calls, of a function on small arrays and of a method of an object holding a model's
parameters (a 5-50-7 two-layer network's), against the same cell run with the
student's code in this process. Prints the median microseconds per call of each, over
the rounds, and the ratio. Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbformat  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402

from autograder.grading.nbgrader_run import sandbox_limits  # noqa: E402
from autograder.grading.submission import Limits  # noqa: E402
from autograder.trusted.session import WorkerPlan  # noqa: E402
from autograder.trusted.tests import run_trusted_tests  # noqa: E402

SETUP = "import numpy as np"
ANSWER = '''def affine(x, w, b):
    return x @ w + b


class Net:
    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.params = {"W1": rng.standard_normal((5, 50)), "b1": np.zeros(50),
                       "W2": rng.standard_normal((50, 7)), "b2": np.zeros(7)}

    def loss(self, X):
        hidden = np.maximum(X @ self.params["W1"] + self.params["b1"], 0)
        return float((hidden @ self.params["W2"] + self.params["b2"]).sum())
'''
FUNCTION_CALLS = '''x, w, b = np.ones((3, 5)), np.ones((5, 7)), np.ones(7)
for _ in range({calls}):
    affine(x, w, b)
'''
METHOD_CALLS = '''net, X = Net(0), np.ones((3, 5))
for i in range({calls}):
    net.params["W1"][0, i % 50] += 1e-5   # what a numerical gradient does between calls
    net.loss(X)
'''


def cell(kind: str, grade_id: str, source: str):
    metadata = {"grade": kind == "test", "grade_id": grade_id, "locked": kind != "answer",
                "schema_version": 3, "solution": kind == "answer", **({"points": 1} if kind == "test" else {})}
    return new_code_cell(source, metadata={"nbgrader": metadata})


def write_notebook(folder: Path, calls: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tests = {"test_function": FUNCTION_CALLS, "test_method": METHOD_CALLS}
    cells = [cell("setup", "setup", SETUP), cell("answer", "task", ANSWER)]
    cells += [cell("test", grade_id, source.format(calls=calls)) for grade_id, source in tests.items()]
    path = folder / "calls.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    return path


def trusted_seconds(folder: Path, calls: int, sandbox: bool) -> float:
    """Wall seconds of trusted scoring of the notebook, less the same with one call per test (the start-up)."""
    def timed(count: int) -> float:
        reference = write_notebook(folder / f"reference-{count}", count)
        submission = write_notebook(folder / f"submission-{count}", count).parent
        limits = Limits(cpu_seconds=600)
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        plan = WorkerPlan(submission, sandbox_limits(limits), sandbox, env, test_seconds=300)
        start = time.perf_counter()
        verdicts = run_trusted_tests(reference, plan, folder / "saved")
        if not all(v.passed for v in verdicts.values()):
            raise SystemExit(f"the benchmark's tests failed: {verdicts}")
        return time.perf_counter() - start
    return timed(calls) - timed(1)


def local_seconds(calls: int) -> float:
    """Wall seconds of the same two tests with the student's code in this process."""
    namespace: dict = {}
    exec(SETUP + "\n" + ANSWER, namespace)
    start = time.perf_counter()
    for source in (FUNCTION_CALLS, METHOD_CALLS):
        exec(source.format(calls=calls), namespace)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls of each kind per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-sandbox", action="store_true", help="the worker as a plain child process")
    args = parser.parse_args()
    trusted, local = [], []
    with tempfile.TemporaryDirectory(prefix="trusted-calls-") as scratch:
        for number in range(args.rounds):
            trusted.append(trusted_seconds(Path(scratch) / str(number), args.calls, not args.no_sandbox))
            local.append(local_seconds(args.calls))
    per_call = [1e6 * s / (2 * args.calls) for s in trusted]
    per_local = [1e6 * s / (2 * args.calls) for s in local]
    print(f"trusted call ({'plain worker' if args.no_sandbox else 'sandboxed worker'}): "
          f"median {statistics.median(per_call):.0f} us per call over {args.rounds} rounds "
          f"(min {min(per_call):.0f}, max {max(per_call):.0f})")
    print(f"the same call in this process: median {statistics.median(per_local):.1f} us")
    print(f"ratio trusted / in process: {statistics.median(per_call) / statistics.median(per_local):.0f}")


if __name__ == "__main__":
    main()
