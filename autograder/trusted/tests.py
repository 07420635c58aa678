"""Trusted scoring: the reference test cells run in the grader, the student's code in a sandboxed worker.

For each notebook, `run_trusted_tests` executes the reference notebook's setup and locked
helper cells and its test cells (hidden tests included) here, in the grader's process.
Every name an answer cell defines is bound to a proxy: calling it sends the inputs to
the worker (session.py, worker.py), which runs the student's code in the sandbox and sends back plain
data (wire.py). Expected values, hidden inputs and every comparison stay here, so nothing
the student's code does to NumPy, to nn_helpers or to the notebook's cells can pass a test.

What a test needs from a training run (notebook 6's models, notebook 7's best_model.npz)
comes from the files the notebook's own sandboxed run saved; the thresholds evaluate
them with the kit's own TwoLayerNet (the reference), loaded with `allow_pickle=False`.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import nbformat
import numpy as np

import nn_helpers.data
import nn_helpers.notebook_import
from nn_helpers import cells
from nn_helpers.cells import SAVED_MODEL_FILES, NoIPython, python_source

from ..messages import cell_error
from .proxies import TEST_MODULE, RemoteError, RemoteName
from .session import Session, WorkerPlan

# Models the training notebooks save in cells tagged `training`: name in the tests -> file.
SAVED_MODELS = {"6_training_cifar10.ipynb": {"overfit_model": "overfit_model.npz", "net": "net.npz"}}
SAVED_FILES = set(SAVED_MODEL_FILES)
MODEL_CLASS = ("4_two_layer_net.ipynb", "TwoLayerNet")   # the reference class that evaluates them
MODEL_KEYS = ("W1", "b1", "W2", "b2")
SAVED_FILE_LIMIT = 256 * 2 ** 20   # bytes; a larger saved file is not read


@dataclass(frozen=True)
class Verdict:
    """The trusted outcome of one test cell."""
    passed: bool
    message: str = ""    # "CheckFailed: ..." as the notebook would show it; never the test's code
    kind: str = ""       # "ename" of the failure: CheckFailed, TimeoutError, MemoryError, ...
    hidden: bool = False  # failed only in the hidden part, which the student's notebook does not hold


def run_trusted_tests(reference: Path, plan: WorkerPlan, saved_dir: Path) -> dict[str, Verdict]:
    """grade_id -> Verdict for every autograded test cell of the reference notebook `reference`.

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
        _copy_saved_files(saved_dir, Path(files))
        try:
            for cell in notebook.cells:
                if cell.cell_type != "code":
                    continue
                if cells.is_answer(cell):   # training cells too: what they define is bound, their models from the files
                    namespace.update({name: RemoteName(session, name) for name in defined_names(cell.source)})
                    namespace.update(_saved_models(reference, Path(files)))
                    defined_by.update(dict.fromkeys(defined_names(cell.source), cells.grade_id(cell)))
                elif cells.is_training(cell):
                    continue
                elif cells.is_test(cell):
                    grade_id = cells.grade_id(cell)
                    session.deadline = time.monotonic() + plan.test_seconds
                    verdicts[grade_id] = _run_test(cell.source, namespace)
                elif cells.is_locked(cell):
                    _run_reference_cell(cell.source, namespace, reference.parent)
                    namespace.update({name: SavedFile(Path(files) / value) for name, value in namespace.items()
                                      if type(value) is str and value in SAVED_FILES})
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


class SavedFile(str):
    """The grader's copy of a file the notebook saved: opens the copy, prints as the notebook's name for it."""

    def __new__(cls, path: Path):
        saved = super().__new__(cls, str(path))
        saved.name = path.name
        return saved

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)

    def __str__(self) -> str:
        return self.name


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
            return Verdict(False, message, type(error).__name__, is_hidden)
    return Verdict(True)


HIDDEN_TESTS = "### BEGIN HIDDEN TESTS"


def _copy_saved_files(saved_dir: Path, target: Path) -> None:
    """Regular .npz files the notebook saved, up to SAVED_FILE_LIMIT bytes each (no links, no devices)."""
    if not saved_dir.is_dir():
        return
    for path in saved_dir.glob("*.npz"):
        info = path.lstat()
        if path.is_file() and not path.is_symlink() and info.st_size <= SAVED_FILE_LIMIT:
            shutil.copyfile(path, target / path.name)


def _saved_models(reference: Path, files: Path) -> dict:
    """The trained models the tests of this notebook evaluate, as reference TwoLayerNets (lazily loaded)."""
    return {name: SavedModel(reference.parent, files / file) for name, file in SAVED_MODELS.get(reference.name, {}).items()}


class SavedModel:
    """A model the notebook trained and saved, evaluated with the reference class when first used."""

    def __init__(self, reference_dir: Path, path: Path):
        self._reference_dir, self._path, self._model = reference_dir, path, None

    def __getattr__(self, name):
        if self._model is None:
            self._model = load_saved_model(self._reference_dir, self._path)
        return getattr(self._model, name)


def load_saved_model(reference_dir: Path, path: Path):
    """A reference TwoLayerNet with the parameters saved in `path` (W1, b1, W2, b2; no pickles)."""
    if not path.exists():
        raise FileNotFoundError(f"{path.name} was not saved: run the training cell and the cell that saves "
                                "the model, top to bottom")
    with np.load(path, allow_pickle=False) as saved:
        missing = [key for key in MODEL_KEYS if key not in saved.files]
        if missing:
            raise ValueError(f"{path.name} lacks {', '.join(missing)}")
        params = {key: saved[key] for key in MODEL_KEYS}
    shapes = {key: value.shape for key, value in params.items()}
    if any(value.dtype.kind != "f" for value in params.values()) or len(shapes["W1"]) != 2 \
            or shapes["b1"] != shapes["W1"][1:] or shapes["W2"] != (shapes["W1"][1], shapes["b2"][0] if shapes["b2"] else -1):
        raise ValueError(f"{path.name} does not hold float parameters W1 (D, H), b1 (H,), W2 (H, C), b2 (C,): "
                         f"saw {', '.join(f'{k} {v}' for k, v in shapes.items())}")
    (d, h), c = shapes["W1"], shapes["b2"][0]
    with loading_references(reference_dir):
        model_class = nn_helpers.notebook_import.load_from_notebook(MODEL_CLASS[0], MODEL_CLASS[1])
    model = model_class(input_dim=d, hidden_dim=h, num_classes=c)
    model.params = params
    return model
