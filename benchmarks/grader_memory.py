"""Benchmark: the grading process's peak memory and time under attacks on the grader itself.

    .venv/bin/python benchmarks/grader_memory.py [CASE ...]

Each case is graded alone, in a fresh grading process (as `grade` runs a submission),
with the sandbox on; the figure is that process's peak resident memory (VmHWM), which
leaves out the sandboxed notebook run and the worker (processes of their own). The
submission cases are notebook 1 of the real assignment: the honest submission of the
attack catalogue, then attacks on it. The saved-model cases run notebook 7's tests in the
grading process against a best_model.npz; CIFAR-10 (which that process keeps, one copy) is
loaded first, and the figure is the peak beyond it. Needs root (the sandbox); takes about
ten minutes on 2 cores. Prints one line per case.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.course import ASSIGNMENT_ID, CONFIG_FILE, ROOT, copy_course, release_notebooks, run_nbgrader, \
    source_notebooks  # noqa: E402
from autograder.grade import gradebook_template  # noqa: E402
from autograder.grading.pool import Crash, run_alone  # noqa: E402
from autograder.grading.submission import GradeTask, Limits, run_submission  # noqa: E402
from autograder.quality.attacks import NOTEBOOK, append_to_answer  # noqa: E402
from autograder.quality.grader_attacks import (ARRAY_INTERFACE, HUGE_REPLY, IN_GRADER, SLEEP_IN_GRADER,  # noqa: E402
                                               huge_cell, many_cells, oversize_notebook, sparse_file, write_npz_bomb)
from autograder.quality.mutants import BY_NAME, write_mutant, write_reference  # noqa: E402

TEST_SECONDS, TRUSTED_SECONDS = 10, 15
LIMITS = Limits(cpu_seconds=180, memory_bytes=4 * 2 ** 30, test_seconds=TEST_SECONDS, trusted_seconds=TRUSTED_SECONDS)
HUGE_REPLIES = HUGE_REPLY.replace("np.ones(5 * 2 ** 20), np.ones(5 * 2 ** 20)",
                                  "np.ones(50 * 2 ** 20), np.ones(50 * 2 ** 20)")   # two 400 MiB arrays

# case -> (what it is, edit of notebook 1, edit of the submission folder)
SUBMISSIONS = {
    "honest": ("the honest submission (one mistake)", None, None),
    "segfault_array_interface": ("an object whose __array_interface__ points at address 8",
                                 append_to_answer(ARRAY_INTERFACE), None),
    "huge_replies": ("replies of two 400 MiB arrays", append_to_answer(HUGE_REPLIES), None),
    "sleep_in_grader_calls": (f"sleeps in every call (tests {TEST_SECONDS} s each, budget {TRUSTED_SECONDS} s)",
                              append_to_answer(SLEEP_IN_GRADER), None),
    "sparse_file": ("a 2 GiB sparse file next to the notebooks", None, sparse_file),
    "notebook_81mb": ("an 81 MB notebook", oversize_notebook(81), None),
    "notebook_20mb": ("a 20 MB notebook", oversize_notebook(20), None),
    "many_cells": ("5,000 empty cells added", many_cells, None),
    "huge_cell": ("5.5 MB of code in an answer cell (a 3 GB syntax tree; 9 MiB of notebook)", huge_cell(5.5), None),
}
MODELS = {
    "model_valid": "a valid best_model.npz (random weights, 100 hidden units)",
    "model_npz_bomb": "a 2 MB best_model.npz whose b1 decompresses to 2 GiB",
    "model_float128": "a float128 best_model.npz",
    "model_huge_hidden": "W1 of shape (3072, 20000) in float32 (240 MB of zeros, compressed)",
}


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM), in MiB."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024


def resident_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024


def forget_peak() -> None:
    """Start VmHWM again from the current resident memory (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def grade_measured(task: GradeTask) -> dict:
    """run_submission in this (fresh) grading process: notebook 1's score and failures, time and peak memory."""
    start = time.perf_counter()
    result = run_submission(task).result
    tests = [t for t in result.tests if t.notebook == NOTEBOOK]
    failures = [f.detail for f in result.failures if f.notebook in ("", NOTEBOOK)]
    return {"seconds": time.perf_counter() - start, "peak": peak_mib(), "score": sum(t.points for t in tests),
            "reason": "; ".join(failures or [t.message for t in tests if not t.passed])}


def evaluate_measured(saved: Path) -> dict:
    """Notebook 7's trusted tests in this (fresh) grading process, against the best_model.npz in `saved`."""
    from autograder.sandbox import SandboxLimits
    from autograder.trusted.session import WorkerPlan
    from autograder.trusted.tests import _cifar10_once, run_trusted_tests
    _cifar10_once()   # the grading process's one copy of CIFAR-10, as the setup cell asks for it
    forget_peak()     # loading it peaks above what it keeps
    with_cifar = resident_mib()
    start = time.perf_counter()
    plan = WorkerPlan(saved, SandboxLimits(cpu_seconds=60), False, {"PATH": "/usr/bin:/bin"})
    verdict = run_trusted_tests(source_notebooks() / "7_hyperparameter_search.ipynb", plan, saved)["test_7_2_saved_model"]
    return {"seconds": time.perf_counter() - start, "peak": peak_mib(), "beyond": peak_mib() - with_cifar,
            "cifar": with_cifar, "reason": verdict.message}


def build_submissions(folder: Path) -> tuple[Path, dict[str, Path]]:
    course = copy_course(folder / "course", ROOT)
    with open(course / CONFIG_FILE, "a") as config:
        config.write(f"\nc.Execute.timeout = {TEST_SECONDS}\n")
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], course)
    reference = write_reference(source_notebooks(course), release_notebooks(course), folder / "reference")
    honest = write_mutant(BY_NAME["matvec_dW_transposed"], reference, folder / "honest")
    submissions = {}
    for case, (_, edit, folder_edit) in SUBMISSIONS.items():
        submission = course / "submitted" / case / ASSIGNMENT_ID
        submission.mkdir(parents=True)
        notebook = nbformat.read(honest / NOTEBOOK, as_version=4)
        if edit:
            edit(notebook)
        nbformat.write(notebook, submission / NOTEBOOK)
        if folder_edit:
            folder_edit(submission)
        submissions[case] = submission
    return course, submissions


def build_models(folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    valid = {"W1": rng.standard_normal((3072, 100)) * 0.01, "b1": np.zeros(100), "W2": rng.standard_normal((100, 10)),
             "b2": np.zeros(10)}
    contents = {"model_valid": valid, "model_float128": {**valid, "W1": valid["W1"].astype(np.longdouble)},
                "model_huge_hidden": {"W1": np.zeros((3072, 20000), np.float32), "b1": np.zeros(20000, np.float32),
                                      "W2": np.zeros((20000, 10), np.float32), "b2": np.zeros(10, np.float32)}}
    folders = {}
    for case in MODELS:
        folders[case] = folder / case
        folders[case].mkdir()
        if case == "model_npz_bomb":
            write_npz_bomb(folders[case] / "best_model.npz")
        elif case == "model_huge_hidden":
            np.savez_compressed(folders[case] / "best_model.npz", **contents[case])
        else:
            np.savez(folders[case] / "best_model.npz", **contents[case])
    return folders


def main(cases: list[str]) -> int:
    """Measure the named cases (default: all)."""
    assert IN_GRADER   # the attacks act only in the grader's calls
    wanted = set(cases) or set(SUBMISSIONS) | set(MODELS)
    with tempfile.TemporaryDirectory(prefix="grader-memory-") as scratch:
        course, submissions = build_submissions(Path(scratch))
        template = gradebook_template(course, ASSIGNMENT_ID)
        for case, description in [*((c, d) for c, (d, _, _) in SUBMISSIONS.items()), *MODELS.items()]:
            print(f"{case:26} {description}")
        print(f"\n{'case':26} {'peak MiB':>9} {'seconds':>8}  outcome")
        for case, submission in submissions.items():
            if case not in wanted:
                continue
            task = GradeTask(case, ASSIGNMENT_ID, str(submission), str(course), str(template), scratch, LIMITS)
            outcome = run_alone(task, grade_measured)
            if isinstance(outcome, Crash):
                print(f"{case:26} the grading process failed: {outcome.detail}", flush=True)
                continue
            print(f"{case:26} {outcome['peak']:9.0f} {outcome['seconds']:8.1f}  {outcome['score']:.0f}/10 points on "
                  f"notebook 1; {outcome['reason'][:150]}", flush=True)
        for case, folder in build_models(Path(scratch)).items():
            if case not in wanted:
                continue
            size = (folder / "best_model.npz").stat().st_size / 2 ** 20
            outcome = run_alone(folder, evaluate_measured)
            if isinstance(outcome, Crash):
                print(f"{case:26} the grading process failed: {outcome.detail}", flush=True)
                continue
            print(f"{case:26} {outcome['peak']:9.0f} {outcome['seconds']:8.1f}  {outcome['beyond']:.0f} MiB beyond "
                  f"CIFAR-10 ({outcome['cifar']:.0f} MiB with it); file {size:.1f} MB; {outcome['reason'][:90]}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
