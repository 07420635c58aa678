"""Tests for nn_helpers.gradient_check: numerical gradients against known derivatives."""

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nn_helpers import gradient_check as gc

# Centred differences in float64 with h = 1e-5 on values |x| <= 5 and at most 64
# elements: truncation ~1e-10 and rounding ~eps * |f| / h ~ 4e-8, so these leave margin.
ATOL = 1e-6
RTOL = 1e-6
# CS231n's rule of thumb: a correct gradient gives relative error below 1e-7
# when the gradient is not near 0.
REL_TOL = 1e-7
# A wrong gradient (e.g. off by a factor) gives a relative error of order 1.
WRONG_MIN = 0.1

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=40)

float64_arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    elements=st.floats(-5, 5, allow_nan=False),
)


def away_from_zero(shape, seed=0):
    """Float64 array with values in [1, 2), so relative errors are meaningful."""
    return 1.0 + np.random.default_rng(seed).random(shape)


@DETERMINISTIC
@given(x=float64_arrays)
def test_square_gradient_is_2x(x):
    """Is the numerical gradient of sum(x**2) equal to 2x for any shape?"""
    grad = gc.eval_numerical_gradient(lambda v: np.sum(v**2), x)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 2 * x, rtol=RTOL, atol=ATOL)


@DETERMINISTIC
@given(x=float64_arrays)
def test_sin_gradient_is_cos(x):
    """Is the numerical gradient of sum(sin(x)) equal to cos(x) for any shape?"""
    grad = gc.eval_numerical_gradient(lambda v: np.sum(np.sin(v)), x)
    np.testing.assert_allclose(grad, np.cos(x), rtol=RTOL, atol=ATOL)


def test_scalar_gradient_rel_error_is_small():
    """Does a smooth non-quadratic function pass the rel_error < 1e-7 rule of thumb?"""
    x = away_from_zero((3, 4))
    grad = gc.eval_numerical_gradient(lambda v: np.sum(np.exp(v) * v), x)
    assert gc.rel_error(grad, np.exp(x) * (x + 1)) < REL_TOL


@DETERMINISTIC
@given(n=st.integers(1, 4), d=st.integers(1, 4), m=st.integers(1, 4), seed=st.integers(0, 99))
def test_matrix_product_gradients(n, d, m, seed):
    """For out = x @ w with upstream df, are the gradients df @ w.T and x.T @ df?"""
    rng = np.random.default_rng(seed)
    x, w, df = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal((n, m))
    dx = gc.eval_numerical_gradient_array(lambda v: v @ w, x, df)
    dw = gc.eval_numerical_gradient_array(lambda v: x @ v, w, df)
    np.testing.assert_allclose(dx, df @ w.T, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dw, x.T @ df, rtol=RTOL, atol=ATOL)


def test_array_gradient_when_f_returns_view_of_x():
    """Is the array gradient right when f returns x itself (identity, a view of x)?"""
    x, df = away_from_zero((2, 3)), away_from_zero((2, 3), seed=1)
    grad = gc.eval_numerical_gradient_array(lambda v: v, x, df)
    np.testing.assert_allclose(grad, df, rtol=RTOL, atol=ATOL)


def test_f_may_ignore_its_argument():
    """Does the check work when f reads x by reference instead of its argument?"""
    params = {"w": away_from_zero(5)}
    grad = gc.eval_numerical_gradient(lambda _: np.sum(params["w"] ** 3), params["w"])
    assert gc.rel_error(grad, 3 * params["w"] ** 2) < REL_TOL


@DETERMINISTIC
@given(x=float64_arrays)
def test_x_is_restored_exactly(x):
    """Is x bit-for-bit unchanged after each of the three checks?"""
    before = x.copy()
    gc.eval_numerical_gradient(lambda v: np.sum(v**2), x)
    assert np.array_equal(x, before)
    gc.eval_numerical_gradient_array(lambda v: 3 * v, x, np.ones_like(x))
    assert np.array_equal(x, before)
    gc.grad_check_sparse(lambda v: np.sum(v**2), x, 2 * x, num_checks=3)
    assert np.array_equal(x, before)


def test_x_is_restored_when_f_raises():
    """Is x restored even when f raises in the middle of a perturbation?"""
    x = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 2:  # during the minus step of the first element
            raise RuntimeError("boom")
        return np.sum(v)

    with pytest.raises(RuntimeError, match="boom"):
        gc.eval_numerical_gradient(f, x)
    assert np.array_equal(x, [1.0, 2.0, 3.0])


def test_empty_x_gives_empty_gradient():
    """Does an empty x give an empty gradient of its shape instead of an nditer error?"""
    grad = gc.eval_numerical_gradient(np.sum, np.ones((0, 3)))
    assert grad.shape == (0, 3)


def test_zero_dim_x_is_supported():
    """Does a 0-d array x get a 0-d gradient?"""
    grad = gc.eval_numerical_gradient(lambda v: float(v) ** 2, np.array(3.0))
    assert grad.shape == ()
    assert gc.rel_error(grad, 6.0) < REL_TOL


@pytest.mark.parametrize("check", ["scalar", "array"])
def test_float32_x_is_checked_on_a_float64_copy_with_a_warning(check):
    """Does a float32 x get the float64 gradient of f, with a warning that names the copy, and stay unchanged?"""
    x = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)
    calls = {"scalar": lambda: gc.eval_numerical_gradient(lambda v: np.sum(v ** 2), x),
             "array": lambda: gc.eval_numerical_gradient_array(lambda v: v ** 2, x, np.ones((2, 2)))}
    with pytest.warns(UserWarning, match=r"float32.*float64 copy.*f must compute from its argument"):
        grad = calls[check]()
    assert grad.dtype == np.float64 and gc.rel_error(grad, 2 * x.astype(np.float64)) < REL_TOL
    assert x.dtype == np.float32 and x[0, 1] == -2.0


def test_float32_x_that_f_reads_by_reference_raises_with_fix():
    """Does a float32 x whose f ignores its argument (reads the array by reference) raise TypeError saying so
    and how to convert the array itself, instead of returning a zero gradient?"""
    params = {"W": np.ones((2, 2), dtype=np.float32)}
    with pytest.warns(UserWarning), pytest.raises(TypeError, match=r"reads the original array.*astype\(np\.float64\)"):
        gc.eval_numerical_gradient(lambda _: float(np.sum(params["W"] ** 2)), params["W"])


def test_float32_x_in_a_sparse_check_raises_type_error_with_fix():
    """Does grad_check_sparse (which compares at indices of x itself) refuse a float32 x, saying how to convert?"""
    x = np.ones((2, 2), dtype=np.float32)
    with pytest.raises(TypeError, match=r"float32.*float64.*astype\(np\.float64\)"):
        gc.grad_check_sparse(np.sum, x, np.ones((2, 2)))


def test_non_array_x_raises_type_error():
    """Does a Python list x (which cannot be perturbed in place) raise TypeError?"""
    with pytest.raises(TypeError, match="numpy array"):
        gc.eval_numerical_gradient(np.sum, [1.0, 2.0])


def test_read_only_x_raises_value_error():
    """Does a read-only x raise ValueError saying it is read-only?"""
    x = np.ones(3)
    x.setflags(write=False)
    with pytest.raises(ValueError, match="x is read-only.*copy"):
        gc.eval_numerical_gradient(np.sum, x)


def test_non_scalar_f_raises():
    """Does eval_numerical_gradient reject an f that returns an array, naming its shape?"""
    with pytest.raises(ValueError, match=r"scalar.*\(3,\)"):
        gc.eval_numerical_gradient(lambda v: v * 2, np.ones(3))


def test_non_scalar_f_raises_in_sparse_check():
    """Does grad_check_sparse reject an f that returns an array?"""
    with pytest.raises(ValueError, match="scalar"):
        gc.grad_check_sparse(lambda v: v * 2, np.ones(3), np.ones(3))


def test_f_returning_none_raises():
    """Does an f that forgot its return statement get a TypeError saying so?"""
    with pytest.raises(TypeError, match="returned None"):
        gc.eval_numerical_gradient(lambda v: None, np.ones(2))


def test_f_returning_loss_and_grads_raises():
    """Does an f returning (loss, grads) get a TypeError telling to keep the loss?"""
    with pytest.raises(TypeError, match=r"\(loss, grads\).*\[0\]"):
        gc.eval_numerical_gradient(lambda v: (np.sum(v), {"W": v}), np.ones(2))


def test_df_shape_mismatch_raises():
    """Does eval_numerical_gradient_array name both shapes when df does not match f(x)?"""
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        gc.eval_numerical_gradient_array(lambda v: v, np.ones((2, 3)), np.ones((3, 2)))


def test_verbose_prints_each_index(capsys):
    """Does verbose=True print one line per element, starting with its index?"""
    gc.eval_numerical_gradient(lambda v: np.sum(v), np.ones((2, 2)), verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("(0, 0)") and lines[-1].startswith("(1, 1)")


def test_default_step_is_module_constant():
    """Is H == 1e-5 the default step of all three checks?"""
    assert gc.H == 1e-5
    for fn in (gc.eval_numerical_gradient, gc.eval_numerical_gradient_array, gc.grad_check_sparse):
        assert inspect.signature(fn).parameters["h"].default == gc.H


def test_step_h_is_used():
    """Does the h argument change the estimate (finite difference of |x| at its kink)?"""
    x = np.array([1e-4])
    small = gc.eval_numerical_gradient(lambda v: np.sum(np.abs(v)), x, h=1e-5)
    large = gc.eval_numerical_gradient(lambda v: np.sum(np.abs(v)), x, h=1e-3)
    assert small[0] == pytest.approx(1.0) and large[0] == pytest.approx(0.1)


def test_sparse_check_small_for_correct_gradient(capsys):
    """Does a correct gradient give max relative error below 1e-7, one printed line per check?"""
    x = away_from_zero((5, 4))
    err = gc.grad_check_sparse(lambda v: np.sum(v**2), x, 2 * x, num_checks=7)
    lines = capsys.readouterr().out.splitlines()
    assert isinstance(err, float) and err < REL_TOL
    assert len(lines) == 7
    assert all("numerical" in ln and "analytic" in ln and "relative error" in ln for ln in lines)


def test_sparse_check_large_for_wrong_gradient():
    """Does a wrong gradient (3x instead of 2x) give a large relative error?"""
    x = away_from_zero((5, 4))
    assert gc.grad_check_sparse(lambda v: np.sum(v**2), x, 3 * x) > WRONG_MIN


def test_sparse_check_reports_worst_not_last():
    """Is the returned error the worst over all checks, even if only one index is wrong?"""
    x = away_from_zero(4)
    bad = 2 * x
    bad[2] = 0.0  # relative error exactly 1 at index 2, 0 elsewhere
    # seed 0 draws index 2 early and index 3 (correct) first and last.
    assert gc.grad_check_sparse(lambda v: np.sum(v**2), x, bad, num_checks=20) == pytest.approx(1.0)


def test_sparse_check_nan_is_not_hidden():
    """Does one NaN in the analytic gradient make the result NaN, not a passing error?"""
    x = away_from_zero(3)
    analytic = np.ones(3)
    analytic[1] = np.nan  # seed 0 draws indices 2, 1, 1: the NaN is not the first check
    assert np.isnan(gc.grad_check_sparse(lambda v: np.sum(v), x, analytic, num_checks=3))


def test_sparse_check_is_deterministic(capsys):
    """Does the same seed draw the same indices, and another seed different ones?"""
    x = away_from_zero((6, 6))
    outputs = []
    for seed in (0, 0, 1):
        gc.grad_check_sparse(lambda v: np.sum(v**2), x, 2 * x, num_checks=5, seed=seed)
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] != outputs[2]


def test_sparse_check_rejects_mismatched_gradient_shape():
    """Does grad_check_sparse name both shapes when analytic_grad does not match x?"""
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        gc.grad_check_sparse(np.sum, np.ones(4), np.ones(3))


def test_sparse_check_rejects_zero_checks():
    """Does num_checks=0 raise instead of returning an error of 0?"""
    with pytest.raises(ValueError, match="num_checks"):
        gc.grad_check_sparse(np.sum, np.ones(4), np.ones(4), num_checks=0)


def test_rel_error_values():
    """Is rel_error |x - y| / (|x| + |y|), maximised over elements, for scalars and arrays?"""
    assert gc.rel_error(1.0, 1.0) == 0.0
    assert gc.rel_error(1.0, 3.0) == pytest.approx(0.5)
    assert gc.rel_error(-1.0, 1.0) == pytest.approx(1.0)
    assert gc.rel_error(np.array([1.0, 1.0]), np.array([1.0, 3.0])) == pytest.approx(0.5)
    assert isinstance(gc.rel_error(np.ones(2), np.ones(2)), float)


def test_rel_error_floor_on_zeros():
    """Does the 1e-8 floor make rel_error(0, 0) == 0 and rel_error(0, 1e-9) == 0.1?"""
    assert gc.REL_ERROR_FLOOR == 1e-8
    assert gc.rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gc.rel_error(0.0, 1e-9) == pytest.approx(0.1)
    assert gc.rel_error(0.0, 1e-6) == pytest.approx(1.0)  # above the floor: plain ratio


@DETERMINISTIC
@given(pair=hnp.array_shapes(max_dims=3, max_side=4).flatmap(
    lambda shape: st.tuples(*[hnp.arrays(np.float64, shape, elements=st.floats(-5, 5))] * 2)))
def test_rel_error_is_symmetric_and_bounded(pair):
    """Is rel_error symmetric and within [0, 1] for any pair of same-shape arrays?"""
    x, y = pair
    assert gc.rel_error(x, y) == gc.rel_error(y, x)
    assert 0.0 <= gc.rel_error(x, y) <= 1.0


def test_rel_error_of_empty_arrays_is_zero():
    """Is rel_error of two empty arrays 0.0 rather than a reduction error?"""
    assert gc.rel_error(np.array([]), np.array([])) == 0.0


def test_rel_error_shape_mismatch_names_both_shapes():
    """Does rel_error raise ValueError naming both shapes when they differ?"""
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        gc.rel_error(np.ones((2, 3)), np.ones((3, 2)))
