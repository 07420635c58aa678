"""Tests for nn_helpers.checks: the assertions of the notebooks' test cells."""
import numpy as np
import pytest

from nn_helpers.checks import (CheckFailed, check_close, check_gradient, check_shape, check_true,
                               GRADIENT_TOL, VALUE_TOL)


def test_close_values_pass():
    """Do values within the tolerance pass, scalars and arrays alike?"""
    check_close("x", 1.0 + 1e-9, 1.0)
    check_close("x", np.array([[1.0, 2.0]]) * (1 + 1e-8), [[1.0, 2.0]], VALUE_TOL)
    check_gradient("dx", np.zeros(3), np.zeros(3), GRADIENT_TOL)


def test_failure_names_output_index_values_and_tolerance():
    """Does a mismatch report the output's name, the worst index, both values and the tolerance?"""
    seen = np.array([[1.0, 2.0], [3.0, 5.0]])
    with pytest.raises(CheckFailed) as failure:
        check_close("affine out", seen, [[1.0, 2.0], [3.0, 4.0]], tol=1e-6)
    message = str(failure.value)
    for part in ("affine out", "(1, 1)", "5.0", "4.0", "1e-06", "relative error 1.11e-01"):
        assert part in message


def test_gradient_failure_says_analytic_and_numeric():
    """Does a gradient mismatch label the two sides analytic and numeric?"""
    with pytest.raises(CheckFailed, match=r"dw: .* analytic 1\.0, numeric 2\.0"):
        check_gradient("dw", [1.0], [2.0])


def test_shape_mismatch_explains_transpose_and_reshape():
    """Does a wrong shape say which shape was expected, which was seen, and hint at the usual cause?"""
    with pytest.raises(CheckFailed, match=r"expected shape \(3, 2\), saw shape \(2, 3\)\. It looks transposed"):
        check_close("dw", np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(CheckFailed, match=r"expected shape \(4, 2, 3\), saw shape \(4, 6\)\. Same number of elements"):
        check_shape("dx", np.zeros((4, 6)), (4, 2, 3))
    with pytest.raises(CheckFailed, match="got None"):
        check_shape("dx", None, (4,))


def test_non_finite_values_suggest_overflow():
    """Does a NaN or inf fail with a hint about overflow, even where the expected value is finite?"""
    with pytest.raises(CheckFailed, match=r"non-finite value \(nan\) at index \(1,\).*Overflow"):
        check_close("loss", [0.5, np.nan], [0.5, 0.5])


def test_likely_causes_appear_only_when_they_match():
    """Is a known mistake named when its predicate matches, and silent when it does not?"""
    causes = {"divide by N": lambda seen, expected: np.allclose(seen, expected * 10),
              "wrong sign": lambda seen, expected: np.allclose(seen, -expected),
              "broken predicate": lambda seen, expected: seen.no_such_attribute}
    with pytest.raises(CheckFailed) as failure:
        check_close("dx", [10.0, 20.0], [1.0, 2.0], likely_causes=causes)
    message = str(failure.value)
    assert "Likely cause: divide by N" in message
    assert "wrong sign" not in message and "broken predicate" not in message


def test_check_true():
    """Does check_true pass on True and fail with the explanation on False?"""
    check_true("reg", True, "unused")
    with pytest.raises(CheckFailed, match="reg: should default to 0.0"):
        check_true("reg", False, "should default to 0.0")


def test_check_failed_is_an_assertion_error():
    """Is CheckFailed an AssertionError, so nbgrader and pytest count it as a failed test?"""
    assert issubclass(CheckFailed, AssertionError)
