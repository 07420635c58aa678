"""A submission right on the visible tests' inputs only: do the hidden parts check values?

`memorising_run` runs a reference notebook's tests in this process against its own answers,
with every function an answer cell defines replaced by a `Memorising` one: on the inputs a
visible part gives it, it returns the reference's result (as hard-coded values would); on any
other input, the reference's result with every float set to zero (a constant with zero
gradients, of the right shapes). Its visible parts must pass and its hidden parts must fail: a
hidden part that only compared the student's gradient with the numeric gradient of the
student's own function would pass it. Tests of classes and of saved models (NOT_MEMORISED)
are left out: there is no function to memorise.
"""
from __future__ import annotations

import collections
import contextlib
import copy
import io
import types
from pathlib import Path
from unittest import mock

import nbformat
import numpy as np

import nn_helpers.data
from nn_helpers import cells
from nn_helpers.cells import NoIPython, python_source

from ..trusted.tests import HIDDEN_TESTS, defined_names, loading_references

NOT_MEMORISED = {  # test -> why memorising functions says nothing about it
    "test_4_2_initialization": "a class (TwoLayerNet) whose parameters are random draws",
    "test_4_2_loss_known_values": "a class (TwoLayerNet)", "test_4_2_gradients": "a class (TwoLayerNet)",
    "test_5_2_step": "a class (Solver)", "test_5_2_end_of_epoch": "a class (Solver)",
    "test_5_2_train": "a class (Solver)",
    "test_6_1_overfit": "a saved model, evaluated with the reference network",
    "test_6_2_validation_accuracy": "a saved model, evaluated with the reference network",
    "test_7_2_saved_model": "a saved model, evaluated with the reference network",
}


NO_DATA = collections.defaultdict(lambda: np.zeros((50, 1)))   # no function test reads CIFAR-10


class Memorising:
    """A function that knows the reference's results for the inputs it saw while `recording`, and
    returns zeros (in the reference result's shapes) for any other."""

    def __init__(self, function):
        self.function, self.seen, self.recording = function, {}, True

    def __call__(self, *args, **kwargs):
        key = _key((args, kwargs))
        if self.recording:
            self.seen[key] = copy.deepcopy(self.function(*args, **kwargs))
        if key in self.seen:
            return copy.deepcopy(self.seen[key])
        return _zeroed(self.function(*args, **kwargs))


def _key(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}{value.dtype}{value.tobytes().hex()}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__}[{','.join(map(_key, value))}]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_key(v)}" for k, v in sorted(value.items(), key=repr)) + "}"
    return repr(value)


def _zeroed(value):
    if isinstance(value, np.ndarray):
        return np.zeros_like(value)
    if isinstance(value, (float, np.floating)):
        return 0.0
    if isinstance(value, (list, tuple)):
        return type(value)(_zeroed(v) for v in value)
    if isinstance(value, dict):
        return {k: _zeroed(v) for k, v in value.items()}
    return value


def memorising_run(reference: Path) -> dict[str, tuple[bool, bool]]:
    """test -> (visible part passed, hidden part passed) with memorising answers, for every test of the
    reference notebook that calls only functions (not NOT_MEMORISED)."""
    notebook = nbformat.read(reference, as_version=4)
    namespace = {"__name__": "memorising", "get_ipython": NoIPython}
    memorised: list[Memorising] = []
    outcomes = {}
    with loading_references(reference.parent), contextlib.redirect_stdout(io.StringIO()), \
            mock.patch.object(nn_helpers.data, "get_CIFAR10_data", lambda *args, **kwargs: NO_DATA):
        for cell in notebook.cells:
            if cell.cell_type != "code" or cells.is_training(cell) or not (cells.is_locked(cell) or cells.is_answer(cell)):
                continue   # plain cells (experiments, plots) and training runs define nothing the tests call
            if cells.is_test(cell):
                if cells.grade_id(cell) not in NOT_MEMORISED:
                    outcomes[cells.grade_id(cell)] = _run_test(cell.source, dict(namespace), memorised)
                continue
            exec(compile(python_source(cell.source), "<reference cell>", "exec"), namespace)
            if cells.is_answer(cell):
                for name in defined_names(cell.source):
                    if isinstance(namespace.get(name), types.FunctionType):
                        memorised.append(Memorising(namespace[name]))
                        namespace[name] = memorised[-1]
    return outcomes


def _run_test(source: str, namespace: dict, memorised: list[Memorising]) -> tuple[bool, bool]:
    visible, marker, hidden = source.partition(HIDDEN_TESTS)
    passed = []
    for part, recording in ((visible, True), (marker + hidden, False)):
        for function in memorised:
            function.recording = recording
        try:
            exec(compile(python_source(part), "<test cell>", "exec"), namespace)
            passed.append(True)
        except Exception:
            passed.append(False)
    for function in memorised:
        function.seen.clear()
    return passed[0], passed[1]
