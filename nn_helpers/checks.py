"""Assertions for the notebooks' test cells, with messages that teach.

Every check raises `CheckFailed` (an AssertionError) whose message says which
output failed, where (the worst index), what was seen and what was expected,
the tolerance, and, when one of the test's known mistakes matches what was
seen, the likely cause. A check that passes prints one line saying what it
measured, e.g. "dw: matches the numeric gradient (max relative error 3.1e-10,
tolerance 1e-06)": never the values compared, only how close they were.

Tolerances are relative errors as computed by `rel_error`:
|a - b| / max(1e-8, |a| + |b|), element by element, worst element reported.

The predicates at the end (`scaled_by`, `negated`, `transposed`, ...) recognise
the usual shapes of a mistake (`has_shape` also a wrong shape); a test words each
as the cause for its function:
    likely_causes={"db averages over the examples: sum them": scaled_by(1 / N)}
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
Predicate = Callable[[np.ndarray, np.ndarray], bool]
LikelyCauses = Mapping[str, Predicate]


class CheckFailed(AssertionError):
    """A test cell's check failed; the message explains what and where."""


def check_shape(name: str, seen, expected_shape: tuple, likely_causes: LikelyCauses | None = None) -> None:
    """Fail unless `seen` is an array (or array-like) of exactly `expected_shape`."""
    _require_shape(name, seen, expected_shape, likely_causes)
    _passed(name, f"shape {tuple(expected_shape)} as expected")


def check_close(name: str, seen, expected, tol: float = VALUE_TOL,
                likely_causes: LikelyCauses | None = None, what: tuple[str, str] = ("got", "expected")) -> None:
    """Fail unless `seen` matches `expected` in shape and within relative error `tol`."""
    worst = _compare(name, seen, expected, tol, likely_causes, what)
    _passed(name, f"matches the expected value{'s' if np.ndim(expected) else ''} ({_measured(worst, tol)})")


def check_gradient(name: str, analytic, numeric, tol: float = GRADIENT_TOL,
                   likely_causes: LikelyCauses | None = None) -> None:
    """Fail unless an analytic gradient matches its numeric estimate within `tol`."""
    worst = _compare(name, analytic, numeric, tol, likely_causes, ("analytic", "numeric"))
    _passed(name, f"matches the numeric gradient ({_measured(worst, tol)})")


def check_true(name: str, condition: bool, explanation: str) -> None:
    """Fail with `explanation` unless `condition` holds (for checks that are not numeric comparisons)."""
    if not condition:
        raise CheckFailed(f"{name}: {explanation}")
    _passed(name, "ok")


def _require_shape(name: str, seen, expected_shape: tuple, likely_causes: LikelyCauses | None = None) -> None:
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
        raise CheckFailed(f"{name}: expected shape {tuple(expected_shape)}, saw shape {shape}.{hint}"
                          + _causes(likely_causes, np.asarray(seen), np.zeros(expected_shape)))


def _compare(name: str, seen, expected, tol: float, likely_causes: LikelyCauses | None,
             what: tuple[str, str]) -> float:
    """The worst relative error of `seen` against `expected`; raise CheckFailed above `tol`."""
    expected = np.asarray(expected, dtype=np.float64)
    _require_shape(name, seen, expected.shape, likely_causes)
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
    return worst


def _measured(worst: float, tol: float) -> str:
    return f"max relative error {worst:.1e}, tolerance {tol:.0e}"


def _passed(name: str, measured: str) -> None:
    """The one line a passing check prints, so that a test cell shows what it measured."""
    print(f"ok  {name}: {measured}")


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


# --- predicates for likely_causes: the usual shapes of a mistake ---------------------------------
# Each compares loosely (relative 1e-4): a numeric gradient is only that accurate, and a
# mistake changes values far more than that.
CAUSE_RTOL = 1e-4


def matches(a, b, rtol: float = CAUSE_RTOL) -> bool:
    """Are `a` and `b` the same shape and equal up to `rtol` of the larger magnitude?"""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)), 1e-12)
    return bool(np.all(np.abs(a - b) <= rtol * scale))


def scaled_by(factor: float) -> Predicate:
    """Seen is `factor` times the expected value (a missing or extra 2, 1/2, N, 1/N ...)."""
    return lambda seen, expected: bool(np.any(expected)) and matches(seen, factor * np.asarray(expected))


def negated() -> Predicate:
    """Seen is the expected value with its sign flipped."""
    return scaled_by(-1.0)


def transposed() -> Predicate:
    """Seen is the transpose of the expected (square) matrix."""
    return lambda seen, expected: np.ndim(expected) == 2 and matches(seen, np.transpose(expected))


def constant_ratio() -> Predicate:
    """Seen is the expected value times one constant (not 1) at every index: a scale factor is wrong."""
    def predicate(seen, expected):
        seen, expected = np.asarray(seen, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        nonzero = np.abs(expected) > 1e-12 * np.max(np.abs(expected), initial=0.0)
        if expected.size < 2 or np.count_nonzero(nonzero) < 2:
            return False
        ratio = float(np.median(seen[nonzero] / expected[nonzero]))
        return not np.isclose(ratio, 1.0, rtol=CAUSE_RTOL) and matches(seen, ratio * expected)
    return predicate


def equals(value) -> Predicate:
    """Seen is `value`: what a known mistake computes on the test's inputs."""
    return lambda seen, _: matches(seen, value)


def offset_by(term) -> Predicate:
    """Seen is the expected value plus `term` (an extra term; a negated term is a missing one)."""
    return lambda seen, expected: matches(seen, np.asarray(expected) + np.asarray(term))


def has_shape(shape: tuple) -> Predicate:
    """Seen has this shape where another was expected, e.g. (N,) for (M,): a sum over the wrong axis."""
    return lambda seen, expected: np.shape(seen) == tuple(shape) != np.shape(expected)


def all_equal() -> Predicate:
    """Every entry of seen is the same value (e.g. each random draw repeats the first)."""
    return lambda seen, _: np.size(seen) > 1 and bool(np.all(np.asarray(seen) == np.asarray(seen).flat[0]))
