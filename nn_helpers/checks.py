"""Assertions for the notebooks' test cells, with failure messages that teach.

Every check raises `CheckFailed` (an AssertionError) whose message says which
output failed, where (the worst index), what was seen and what was expected,
the tolerance, and, when one of the test's known mistakes matches what was
seen, the likely cause.

Tolerances are relative errors as computed by `rel_error`:
|a - b| / max(1e-8, |a| + |b|), element by element, worst element reported.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

# A forward output compared with a known value computed in float64.
VALUE_TOL = 1e-6
# An analytic gradient of one layer compared with a centred-difference estimate (h=1e-5, float64).
GRADIENT_TOL = 1e-6
# A whole network's gradient: ReLU kinks near zero cost the numeric estimate some accuracy.
NETWORK_GRADIENT_TOL = 1e-5

# name of a known mistake -> predicate(seen, expected) that is true when the mistake explains the result
LikelyCauses = Mapping[str, Callable[[np.ndarray, np.ndarray], bool]]


class CheckFailed(AssertionError):
    """A test cell's check failed; the message explains what and where."""


def check_shape(name: str, seen, expected_shape: tuple) -> None:
    """Fail unless `seen` is an array (or array-like) of exactly `expected_shape`."""
    if seen is None:
        raise CheckFailed(f"{name}: got None, expected an array of shape {tuple(expected_shape)}. "
                          "Did the function forget to return a value?")
    shape = np.shape(seen)
    if shape != tuple(expected_shape):
        hint = ""
        if len(shape) == 2 and shape[::-1] == tuple(expected_shape):
            hint = " It looks transposed: check the order of the operands in the matrix product."
        elif int(np.prod(shape)) == int(np.prod(expected_shape)):
            hint = " Same number of elements: a reshape is missing or reshapes to the wrong shape."
        raise CheckFailed(f"{name}: expected shape {tuple(expected_shape)}, saw shape {shape}.{hint}")


def check_close(name: str, seen, expected, tol: float = VALUE_TOL,
                likely_causes: LikelyCauses | None = None, what: tuple[str, str] = ("got", "expected")) -> None:
    """Fail unless `seen` matches `expected` in shape and within relative error `tol`."""
    expected = np.asarray(expected, dtype=np.float64)
    check_shape(name, seen, expected.shape)
    seen = np.asarray(seen, dtype=np.float64)
    seen_label, expected_label = what
    if not np.all(np.isfinite(seen)):
        index = _index(np.argwhere(~np.isfinite(seen))[0]) if seen.ndim else ()
        where = f" at index {index}" if seen.ndim else ""
        raise CheckFailed(f"{name}: {seen_label} a non-finite value ({float(seen[index])}){where}. "
                          "Overflow? (e.g. exp of a large score: shift by the max first)"
                          + _causes(likely_causes, seen, expected))
    errors = np.abs(seen - expected) / np.maximum(1e-8, np.abs(seen) + np.abs(expected))
    worst = float(np.max(errors)) if errors.size else 0.0
    if worst > tol:
        index = np.unravel_index(int(np.argmax(errors)), errors.shape) if errors.ndim else ()
        where = f" at index {_index(index)}" if errors.ndim else ""
        raise CheckFailed(f"{name}: relative error {worst:.2e} exceeds tolerance {tol:.0e}{where}: "
                          f"{seen_label} {float(seen[index])!r}, {expected_label} {float(expected[index])!r}"
                          + _causes(likely_causes, seen, expected))


def check_gradient(name: str, analytic, numeric, tol: float = GRADIENT_TOL,
                   likely_causes: LikelyCauses | None = None) -> None:
    """Fail unless an analytic gradient matches its numeric estimate within `tol`."""
    check_close(name, analytic, numeric, tol, likely_causes, what=("analytic", "numeric"))


def check_true(name: str, condition: bool, explanation: str) -> None:
    """Fail with `explanation` unless `condition` holds (for checks that are not numeric comparisons)."""
    if not condition:
        raise CheckFailed(f"{name}: {explanation}")


def _index(index) -> tuple:
    return tuple(int(i) for i in index)


def _causes(likely_causes: LikelyCauses | None, seen: np.ndarray, expected: np.ndarray) -> str:
    matches = []
    for cause, predicate in (likely_causes or {}).items():
        try:
            if predicate(seen, expected):
                matches.append(cause)
        except Exception:  # a predicate that does not apply to these shapes is simply not a match
            continue
    return "".join(f"\n  Likely cause: {cause}" for cause in matches)
