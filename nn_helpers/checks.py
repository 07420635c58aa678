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
When none of a test's causes matches, a failed comparison still names the shape of the
mistake if it has one of the usual ones (`pattern`): every value 0, a mask's 0s and 1s
in place of values, a flipped sign, a transpose, one factor or one offset at every index,
an inverted mask, or wrong only where a mask decides; and a wrong shape says which axis is
too many or missing.
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
        hint = _shape_hint(shape, tuple(expected_shape))
        raise CheckFailed(f"{name}: expected shape {tuple(expected_shape)}, saw shape {shape}.{hint}"
                          + _causes(likely_causes, np.asarray(seen), np.zeros(expected_shape)))


def _shape_hint(shape: tuple, expected: tuple) -> str:
    """What a wrong shape usually means, as a sentence to append; "" when it is not one of the usual ones."""
    if len(shape) == 2 and shape[::-1] == expected:
        return " It looks transposed: check the order of the operands in the matrix product."
    if int(np.prod(shape)) == int(np.prod(expected)):
        return " Same number of elements: a reshape is missing or reshapes to the wrong shape."
    if not shape:
        return " A single number where an array is expected: a sum or mean over every entry (no axis)?"
    if not expected:
        return " An array where a single number is expected: a sum or mean over it is missing."
    if shape[1:] == expected:
        return (f" One axis too many in front ({shape[0]} rows where one is expected): a sum over the first axis "
                "(axis=0, the examples) is missing.")
    if shape[:-1] == expected:
        return " One axis too many at the end: a sum over the last axis is missing."
    if expected[1:] == shape:
        return " The first axis is missing: a sum over axis 0 where none belongs (or keepdims=True)."
    if expected[:-1] == shape:
        return " The last axis is missing: a sum over the last axis where none belongs (or keepdims=True)."
    return ""


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
        causes = _causes(likely_causes, seen, expected)
        if not causes and (usual := pattern(seen, expected)):   # none of the test's causes: the mistake's usual shape
            causes = f"\n  Likely cause: {usual}"
        raise CheckFailed(f"{name}: relative error {worst:.2e} exceeds tolerance {tol:.0e}{where}: "
                          f"{seen_label} {float(seen[index])!r}, {expected_label} {float(expected[index])!r}"
                          + causes)
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
    return lambda seen, expected: _common_ratio(seen, expected) is not None


def _common_ratio(seen, expected) -> float | None:
    """The one factor (not 1) that turns `expected` into `seen` at every index, if there is one."""
    seen, expected = np.asarray(seen, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    nonzero = np.abs(expected) > 1e-12 * np.max(np.abs(expected), initial=0.0)
    if expected.size < 2 or np.count_nonzero(nonzero) < 2:
        return None
    ratio = float(np.median(seen[nonzero] / expected[nonzero]))
    return ratio if not np.isclose(ratio, 1.0, rtol=CAUSE_RTOL) and matches(seen, ratio * expected) else None


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


def pattern(seen, expected) -> str:
    """The usual shape of a mistake that `seen` (same shape as `expected`) shows, worded as its cause; "" if none.

    Each is a fact about the values, not a guess about the code: e.g. every value is -1 times
    the expected one. Checked loosely (CAUSE_RTOL), in the order below; the first that holds.
    """
    seen, expected = np.asarray(seen, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected), initial=0.0))
    if seen.shape != expected.shape or scale == 0.0 or not np.all(np.isfinite(seen)):
        return ""
    if not np.any(seen):
        return ("every value is 0 where non-zero values are expected: something multiplies it by 0 (a mask or "
                "routing condition that blocks everything, a missing upstream gradient) or it is never filled in")
    if seen.size > 1 and np.all((seen == 0) | (seen == 1)) and not np.all((expected == 0) | (expected == 1)):
        return ("every value is 0 or 1, like a mask (a comparison such as x > 0) where values are expected: "
                "multiply by the mask instead")
    if matches(seen, -expected):
        return ("every value has the sign opposite to the expected one: a sign is flipped (+ for -, or a "
                "subtraction's operands swapped)")
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] and not matches(expected, expected.T) \
            and matches(seen, expected.T):
        return ("the transpose of the expected matrix: check the order of a matrix product's operands, or a .T too "
                "many or too few")
    if expected.size == 1:
        ratio = float(seen.flat[0] / expected.flat[0]) if expected.flat[0] else 0.0
        for factor, word in ((2.0, "twice"), (0.5, "half")):
            if np.isclose(ratio, factor, rtol=CAUSE_RTOL):
                return f"the value is {word} the expected one: a factor 2 is {'extra' if factor > 1 else 'missing'}"
        return ""
    ratio = _common_ratio(seen, expected)
    if ratio is not None:
        return (f"every value is {ratio:.4g} times the expected one: a constant factor is missing or extra "
                "(e.g. a 2, or a division by the number of examples)")
    offset = seen - expected
    if not matches(offset, np.zeros_like(offset)) and matches(offset, np.full_like(offset, float(np.median(offset)))):
        return (f"every value is off by the same amount ({float(np.median(offset)):.4g}): a constant term is "
                "missing or extra")
    expected_zero = np.abs(expected) <= 1e-12 * scale
    seen_zero = np.abs(seen) <= 1e-12 * max(scale, float(np.max(np.abs(seen))))
    if np.any(expected_zero) and np.any(~expected_zero) and np.array_equal(expected_zero, ~seen_zero):
        return ("non-zero exactly where 0 is expected, and 0 everywhere else: the mask is inverted (it passes what it "
                "should block, e.g. x < 0 for x > 0)")
    wrong = np.abs(seen - expected) > CAUSE_RTOL * max(scale, float(np.max(np.abs(seen))))
    count = f"{int(np.count_nonzero(wrong))} of {wrong.size} entries"
    if np.all(expected_zero[wrong]):
        return (f"wrong only where the expected value is 0 ({count}): the value must be blocked there, so a mask or "
                "routing condition lets through what it should stop")
    if not np.any(seen[wrong]):
        return (f"0 where non-zero values are expected ({count}), right everywhere else: a mask or routing condition "
                "blocks what it should let through")
    return ""
