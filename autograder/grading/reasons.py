"""The true reason a cell or a test did not do what it should, with cells named as the student sees them.

`notebook_run` reads an executed notebook as the notebook's own run left it (before the
grader's verdicts replace its test cells' outputs): which cell a limit stopped (time,
memory, the sandbox), which has a syntax error, which raised. Then, for the grader's verdicts:
- `not_run`: the tests a timed-out cell kept from running say so, naming that cell (only
  that cell timed out; the ones after it were not run);
- `explain`: a test that failed only because what it needs never came to exist (a NameError,
  a saved model that was never saved, a notebook it loads from that could not be read) says
  why, naming the cell that failed and how, instead of the symptom.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

from nn_helpers.cells import cell_label, defining_cells, grade_id, is_code, is_test, is_training, source

from ..messages import SYNTAX_ERRORS, cell_error
from ..results import Failure
from ..trusted.tests import Verdict

LIMITS = ("timeout", "memory", "sandbox")
# Failures that only say that something a test needs never came to exist.
SYMPTOMS = ("NameError", "ImportError", "ModuleNotFoundError", "FileNotFoundError")
MISSING_FILE = re.compile(r"([\w-]+\.npz) (?:is missing|was not saved)")
UNDEFINED = re.compile(r"name '(\w+)' is not defined")


@dataclass(frozen=True)
class CellProblem:
    """What went wrong in one code cell of the notebook's own run."""
    index: int        # position in the notebook, from 0
    label: str        # e.g. "Task 1.1 answer cell (`task_1_1_gates`)"
    kind: str         # "timeout", "memory", "sandbox" (a limit stopped it), "syntax" or "raised"
    ename: str
    evalue: str
    test: bool = False
    detail: str = ""  # what the sandbox refused

    def describe(self) -> str:
        if self.kind == "timeout":
            return f"{self.label} ran past the per-cell time limit and was stopped"
        if self.kind == "memory":
            return f"{self.label} ran out of memory (MemoryError)"
        if self.kind == "sandbox":
            return f"{self.label} {self.detail}"
        return cell_error(self.label, self.ename, self.evalue)


@dataclass
class NotebookRun:
    """The notebook's own run, cell by cell."""
    labels: list[str]
    sources: list[str]
    positions: dict[str, int]   # grade_id -> index
    defining: set[int]          # indices of the cells the grader's worker runs to define the answers
    training: set[int]          # indices of the cells tagged `training` (they save the models tests evaluate)
    problems: list[CellProblem]

    @property
    def stopped(self) -> CellProblem | None:
        """The first cell a limit stopped (time, memory, the sandbox), if any."""
        return next((p for p in self.problems if p.kind in LIMITS), None)

    @property
    def ran_to_end(self) -> bool:
        """Did every cell run without a limit stopping it?"""
        return self.stopped is None

    def failures(self, notebook: str) -> list[Failure]:
        """What stopped cells of this run (a limit, a syntax error), in plain words."""
        return [Failure(p.kind if p.kind in LIMITS else "syntax error", notebook, p.describe())
                for p in self.problems if p.kind in LIMITS or p.kind == "syntax"]


def notebook_run(text: str) -> NotebookRun:
    """What each cell of an executed notebook (JSON text, before the verdicts) did wrong.

    Nothing after the first timed-out cell counts: the kernel was stopped there, and the
    cells after it did not run normally.
    """
    cells = nbformat.reads(text, as_version=4).cells
    labels = [cell_label(cells, index) for index in range(len(cells))]
    problems = []
    for index, cell in enumerate(cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"] if is_code(cell) else []
        problem = _problem(index, labels[index], cell, errors) if errors else None
        if problem:
            problems.append(problem)
            if problem.kind == "timeout":
                break
    return NotebookRun(labels, [source(c) for c in cells], {grade_id(c): i for i, c in enumerate(cells) if grade_id(c)},
                       {number - 1 for number, _ in defining_cells(cells, with_locked=True)},
                       {index for index, cell in enumerate(cells) if is_training(cell)}, problems)


def _problem(index: int, label: str, cell, errors: list) -> CellProblem | None:
    test = is_test(cell)
    if any(_timed_out(e) for e in errors):
        return CellProblem(index, label, "timeout", "CellTimeoutError", "", test)
    error = errors[0]
    ename, evalue = error.get("ename", ""), error.get("evalue", "")
    if ename == "MemoryError":
        return CellProblem(index, label, "memory", ename, evalue, test)
    if denied := sandbox_denial(ename, evalue):
        return CellProblem(index, label, "sandbox", ename, evalue, test, denied)
    if test:   # a failing test is a test result, not a problem of the run
        return None
    return CellProblem(index, label, "syntax" if ename in SYNTAX_ERRORS else "raised", ename, evalue)


def _timed_out(output) -> bool:
    return output.get("ename") == "CellTimeoutError" or "timed out" in output.get("evalue", "").lower()


def sandbox_denial(ename: str, evalue: str) -> str:
    """What the grading sandbox refused, judged from an exception ('' when it was something else)."""
    if ename == "BlockingIOError" or "Resource temporarily unavailable" in evalue:
        return "tried to start more processes than grading allows"
    if "Network is unreachable" in evalue or "name resolution" in evalue or ename == "gaierror":
        return "tried to reach the network, which grading does not allow"
    if ename == "PermissionError" or "Read-only file system" in evalue:
        return "tried to read or write a file outside its own folder"
    return ""


def not_run(run: NotebookRun, grade_ids: list[str]) -> dict[str, Verdict]:
    """Verdicts for the tests a timed-out cell kept from running ({} when it kept none from it).

    The tests after that cell were not run. When the cell is one the grader runs to define
    the answers (an answer, setup or helper cell), the tests before it cannot run either.
    """
    stopped = run.stopped
    if stopped is None or stopped.kind != "timeout" or stopped.test:
        return {}
    verdicts = {}
    for test in grade_ids:
        position = run.positions.get(test, len(run.labels))
        if position > stopped.index:
            verdicts[test] = Verdict(False, f"not run: an earlier cell ({stopped.label}) was stopped at the "
                                            "per-cell time limit", "NotRun")
        elif stopped.index in run.defining:
            verdicts[test] = Verdict(False, f"not run: a later cell ({stopped.label}) was stopped at the per-cell "
                                            "time limit, and every answer cell must run before any test", "NotRun")
    return verdicts


def explain(verdicts: dict[str, Verdict], run: NotebookRun, failures: list[Failure]) -> dict[str, Verdict]:
    """The verdicts, each symptom (a test failing for want of what an earlier cell failed to make)
    replaced by its root cause; a failed test after a training cell that raised says so too."""
    explained = {}
    for test, verdict in verdicts.items():
        position = run.positions.get(test, len(run.labels))
        cause = "" if verdict.passed else root_cause(run, position, verdict.message, failures)
        if cause:
            seen = "" if verdict.hidden else f" (the test then failed with {verdict.message[:300]})"
            explained[test] = Verdict(False, cause + seen, "RootCause")
            continue
        crashed = [p for p in run.problems if p.index < position and p.index in run.training and p.kind == "raised"]
        if not verdict.passed and crashed and verdict.kind != "NotRun":
            verdict = Verdict(False, f"{verdict.message} (note: {crashed[0].describe()}, so the model it saved "
                                     "was not trained to the end)", verdict.kind, verdict.hidden)
        explained[test] = verdict
    return explained


def root_cause(run: NotebookRun, position: int, message: str, failures: list[Failure]) -> str:
    """Why a test (or cell) at `position` failed with `message`, if that only shows that an earlier
    cell failed to make what it needs; '' otherwise."""
    missing_file = MISSING_FILE.search(message)
    if message.split(":", 1)[0] not in SYMPTOMS and not missing_file:
        return ""
    earlier = [p for p in run.problems if p.index < position and not p.test]
    if not earlier:
        return ""
    name = UNDEFINED.search(message)
    wanted = name.group(1) if name else missing_file.group(1) if missing_file else ""
    # the cell that should have made what is missing, else the nearest that failed (the chain goes on from it)
    first = next((p for p in earlier if wanted and re.search(rf"\b{re.escape(wanted)}\b", run.sources[p.index])),
                 earlier[-1])
    for failure in failures:   # the notebook it loads from could not be read
        if failure.kind == "unreadable" and failure.notebook and failure.notebook in first.evalue:
            return f"{failure.notebook}, which this notebook loads from in its {first.label}, {failure.detail}"
    if first.kind == "raised":   # itself a symptom of a cell before it?
        return root_cause(run, first.index, f"{first.ename}: {first.evalue}", failures) or first.describe()
    return first.describe()
