"""Trusted scoring: the reference test cells run in the grader, the student's code in a sandboxed worker.

For each notebook, `run_trusted_tests` executes the reference notebook's setup and locked
helper cells and its test cells (hidden tests included) here, in the grader's process.
Every name an answer cell defines is bound to a proxy: calling it sends the inputs to
the worker (session.py, worker.py), which runs the student's code in the sandbox and sends back plain
data (wire.py). Expected values, hidden inputs and every comparison stay here, so nothing
the student's code does to NumPy, to nn_helpers or to the notebook's cells can pass a test.

What a test needs from a training run (notebook 6's models, notebook 7's best_model.npz)
comes from the files the notebook's own sandboxed run saved; the thresholds evaluate
them with the kit's own TwoLayerNet (the reference), in a bounded process of their own
(saved.py, evaluate.py): no saved file is opened in the grader.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import math
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import nbformat

import nn_helpers.data
import nn_helpers.notebook_import
from nn_helpers import cells
from nn_helpers.cells import NoIPython, python_source

from ..messages import cell_error, error_hint
from ..sandbox import WALL_FACTOR
from .proxies import TEST_MODULE, RemoteError, RemoteName
from .saved import bind_saved_files, copy_saved_files, saved_models
from .session import BUDGET_SPENT, Session, WorkerPlan





class Budget:
    """The CPU seconds the grader may spend running one submission's functions, over all its notebooks.

    Each test has its own limit (`WorkerPlan.test_seconds`); the budget bounds their sum, and
    its wall-clock backstop (WALL_FACTOR times as long) bounds code that only waits. The
    session checks both while a test runs (`Session.start_test`), so a hostile submission
    holds its grading slot no longer than that, and a busy machine uses none of it.
    """

    def __init__(self, seconds: float = math.inf):
        self.seconds = seconds
        self.spent_cpu = 0.0
        self.wall_end = time.monotonic() + WALL_FACTOR * seconds

    def left(self) -> float:
        """CPU seconds left (0 once the wall-clock backstop has passed)."""
        return 0.0 if time.monotonic() >= self.wall_end else max(0.0, self.seconds - self.spent_cpu)

    def spent(self, during: bool = False) -> Verdict:
        """The verdict of a test the budget left no time for (`during`: it ran out while the test ran)."""
        when = "ran out during this test" if during else "was used up by earlier tests"
        return Verdict(False, f"{BUDGET_SPENT}: the grader's budget for running your functions ({self.seconds:g} s "
                              f"of CPU time) {when}", BUDGET_SPENT)


@dataclass(frozen=True)
class Verdict:
    """The trusted outcome of one test cell."""
    passed: bool
    message: str = ""    # "CheckFailed: ..." as the notebook would show it; never the test's code
    kind: str = ""       # "ename" of the failure: CheckFailed, TimeoutError, MemoryError, ...
    hidden: bool = False  # failed only in the hidden part, which the student's notebook does not hold


def run_trusted_tests(reference: Path, plan: WorkerPlan, saved_dir: Path,
                      budget: Budget | None = None) -> dict[str, Verdict]:
    """grade_id -> Verdict for every autograded test cell of the reference notebook `reference`.

    `budget` bounds the time of every test of the submission together (none by default);
    once it is spent, the remaining tests fail at once, saying so.

    `saved_dir` holds what the notebook's own run saved (models). The tests name those
    files as the notebook does ("best_model.npz"); the names lead to the grader's copies.
    (No chdir: a Dask worker grades several submissions in one process.)
    """
    notebook = nbformat.read(reference, as_version=4)
    session = Session(plan, reference.name)
    namespace = {"__name__": TEST_MODULE, "__builtins__": builtins, "get_ipython": NoIPython}
    verdicts: dict[str, Verdict] = {}
    defined_by: dict[str, str] = {}   # name -> grade_id of the answer cell that defines it
    with tempfile.TemporaryDirectory(prefix="trusted-files-") as files:
        copy_saved_files(saved_dir, Path(files))
        try:
            for cell in notebook.cells:
                if cell.cell_type != "code":
                    continue
                if cells.is_answer(cell):   # training cells too: what they define is bound, their models from the files
                    namespace.update({name: RemoteName(session, name) for name in defined_names(cell.source)})
                    namespace.update(saved_models(reference, Path(files)))
                    defined_by.update(dict.fromkeys(defined_names(cell.source), cells.grade_id(cell)))
                elif cells.is_training(cell):
                    continue
                elif cells.is_test(cell):
                    verdicts[cells.grade_id(cell)] = _run_within(cell.source, namespace, session, budget or Budget())
                elif cells.is_locked(cell):
                    _run_reference_cell(cell.source, namespace, reference.parent)
                    bind_saved_files(namespace, Path(files), reference.parent)
        finally:
            session.stop()
    return _undefined_explained(verdicts, session.definition_errors, plan.submission_dir / reference.name, defined_by)


DEFINITION_ERROR = re.compile(r"^cell (\d+): (\w+): (.*)$", re.S)   # as the worker reports one
UNDEFINED = re.compile(r"^NameError: name '(\w+)' is not defined|NameError: name '(\w+)' is not defined \[raised in ")


def _undefined_explained(verdicts: dict[str, Verdict], errors: list[str], submitted: Path,
                         defined_by: dict[str, str]) -> dict[str, Verdict]:
    """A NameError of a name an answer cell should define says why: that cell failed in the worker
    ("Task 5.2 answer cell (`task_5_2_solver`) has a SyntaxError at line 12: ..."), or it defines no
    such name (the stub's name was changed)."""
    if not any(UNDEFINED.search(v.message) for v in verdicts.values()):
        return verdicts
    try:
        student_cells = nbformat.read(submitted, as_version=4).cells
    except Exception:   # nothing to name the cells by
        return verdicts
    labels = {cells.grade_id(c): cells.cell_label(student_cells, i) for i, c in enumerate(student_cells)
              if cells.grade_id(c)}
    failed = {}   # grade_id -> what went wrong when the worker ran that cell
    for error in errors:
        match = DEFINITION_ERROR.match(error)
        if match and 0 < int(match.group(1)) <= len(student_cells):
            index = int(match.group(1)) - 1
            failed.setdefault(cells.grade_id(student_cells[index]),
                              cell_error(cells.cell_label(student_cells, index), match.group(2), match.group(3)))
    explained = {}
    for grade_id, verdict in verdicts.items():
        match = UNDEFINED.search(verdict.message)
        name = match and (match.group(1) or match.group(2))
        cell = defined_by.get(name) if name else None
        if cell in failed:
            verdict = Verdict(False, f"{failed[cell]} (the test then failed with {verdict.message[:300]})", "RootCause")
        elif cell in labels:
            verdict = Verdict(False, f"{verdict.message}: {labels[cell]} should define {name} (keep the names of "
                                     "the stubs)", verdict.kind, verdict.hidden)
        explained[grade_id] = verdict
    return explained


def defined_names(source: str) -> list[str]:
    """The top-level names a cell defines (functions, classes, assignments)."""
    try:
        body = ast.parse(python_source(source)).body
    except SyntaxError:
        return []
    names = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return list(dict.fromkeys(names))


def _run_reference_cell(source: str, namespace: dict, reference_dir: Path) -> None:
    """A setup or helper cell of the reference, here; load_from_notebook loads the reference too."""
    with loading_references(reference_dir), contextlib.redirect_stdout(io.StringIO()), \
            mock.patch.object(nn_helpers.data, "get_CIFAR10_data", _cifar10_once):
        exec(compile(python_source(source), "<reference cell>", "exec"), namespace)


def _cifar10_once(*args, **kwargs) -> dict:
    """get_CIFAR10_data, loaded once per grading process (2-3 s a load); read-only, so no test can change it."""
    key = repr((args, sorted(kwargs.items())))
    if key not in _CIFAR10:
        data = _real_get_data(*args, **kwargs)
        for array in data.values():
            array.flags.writeable = False
        _CIFAR10.clear()   # one split at a time in memory
        _CIFAR10[key] = data
    return dict(_CIFAR10[key])


_real_get_data = nn_helpers.data.get_CIFAR10_data
_CIFAR10: dict[str, dict] = {}


_real_load = nn_helpers.notebook_import.load_from_notebook


def loading_references(reference_dir: Path):
    """A context in which load_from_notebook("4_two_layer_net.ipynb", ...) loads the reference notebook."""
    def load_reference(notebook, *names):
        return _real_load(reference_dir / Path(notebook).name, *names)

    return mock.patch.object(nn_helpers.notebook_import, "load_from_notebook", load_reference)


def _run_within(source: str, namespace: dict, session: Session, budget: Budget) -> Verdict:
    """A test cell, its calls to the worker bounded by the test's limit and by what is left of the budget."""
    if budget.left() <= 0:
        return budget.spent()
    session.start_test(budget)
    verdict = _run_test(source, namespace)
    budget.spent_cpu += session.test_cpu_seconds()
    return budget.spent(during=True) if verdict.kind == BUDGET_SPENT else verdict


def _run_test(source: str, namespace: dict) -> Verdict:
    """Run a reference test cell: its visible part (what the student's notebook holds), then its hidden part."""
    visible, marker, hidden = source.partition(HIDDEN_TESTS)
    for part, is_hidden in ((visible, False), (marker + hidden, True)):
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(python_source(part), "<test cell>", "exec"), namespace)
        except Exception as error:
            where = getattr(error, "where", "")
            if isinstance(error, RemoteError) and not where and type(error).__name__ == "CheckFailed":
                where = "raised in the student's code"   # not a check of the test's: its message is not a check's
            message = f"{type(error).__name__}: {error}{f' [{where}]' if where else ''}"
            hint = error_hint(type(error).__name__, str(error))
            message += f"\n  Likely cause: {hint}" if hint and "Likely cause:" not in message else ""
            return Verdict(False, message, type(error).__name__, is_hidden)
    return Verdict(True)


HIDDEN_TESTS = "### BEGIN HIDDEN TESTS"
