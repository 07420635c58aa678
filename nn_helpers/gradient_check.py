"""Numerical gradients by centred differences, to check the gradients you derive.

All checks perturb ``x`` in place, one element at a time, and put the original
value back exactly (also when ``f`` raises), so ``f`` may ignore its argument and
read the array by reference, as in ``f = lambda _: net.loss(X, y)[0]`` checked
against ``net.params["W1"]``.

Gradient checks need float64: with float32 the rounding error of ``f`` divided
by ``2 * h`` is about 1e-2, larger than the errors the check looks for. A float32
(or float16) ``x`` is checked on a float64 copy, with a warning: then ``f`` must
compute from its argument, since the copy is what is perturbed.
"""

import warnings

import numpy as np

H = 1e-5
"""Default step h. The centred difference has truncation error O(h**2) ~ 1e-10
and rounding error ~ eps * |f| / h ~ 1e-11 * |f| in float64: both are small."""

REL_ERROR_FLOOR = 1e-8
"""Floor on the denominator of ``rel_error``, so two near-zero values compare by
their absolute difference (scaled by 1e8) instead of dividing by ~0."""


def _require_float64(x, where):
    """Raise TypeError unless x is a writeable float64 ndarray."""
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{where}: x must be a numpy array (it is perturbed in place), got "
            f"{type(x).__name__}. Fix: x = np.asarray(x, dtype=np.float64)."
        )
    if x.dtype != np.float64:
        raise TypeError(
            f"{where}: x has dtype {x.dtype}, but gradient checks need float64 "
            "(lower precision rounding swamps the difference). "
            "Fix: x = x.astype(np.float64), and make f read the converted array."
        )
    if not x.flags.writeable:
        raise ValueError(
            f"{where}: x is read-only, but the check perturbs it in place. "
            "Fix: pass a writeable array (x = x.copy()) that f reads."
        )


def _upcast(x, where):
    """x itself when it is float64; a float64 copy, with a warning, when it is a lower-precision float array."""
    if isinstance(x, np.ndarray) and x.dtype != np.float64 and np.issubdtype(x.dtype, np.floating) \
            and np.finfo(x.dtype).bits < 64:
        warnings.warn(f"{where}: x has dtype {x.dtype}; the check runs on a float64 copy of it (in {x.dtype} "
                      "rounding would swamp the differences), so f must compute from its argument.", stacklevel=3)
        return x.astype(np.float64), True
    _require_float64(x, where)
    return x, False


def _require_f_reads_its_argument(grad, upcast, where):
    """After a check on a float64 copy: an all-zero gradient means f never read the copy."""
    if upcast and grad.size and not np.any(grad):
        raise TypeError(
            f"{where}: x was not float64, so the check perturbed a float64 copy of it, and f's value never "
            "changed: f reads the original array (e.g. lambda _: net.loss(X, y)[0]). Fix: convert that array "
            "itself to float64 (net.params['W1'] = net.params['W1'].astype(np.float64)) and check it."
        )


def _evaluate(f, x):
    """Return a float64 copy of f(x) (a copy: f may return a view of x)."""
    value = f(x)
    if value is None:
        raise TypeError("f returned None. Fix: check that f (and the code it calls) "
                        "ends with a return statement.")
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"f returned a {type(value).__name__} that is not a number or numeric array "
            f"({err}). Fix: if f returns (loss, grads), keep the loss: "
            "f = lambda W: net.loss(X, y)[0]."
        ) from err


def _centred_values(f, x, ix, h):
    """Return (f(x + h e_ix), f(x - h e_ix)), restoring x[ix] exactly afterwards."""
    old = x[ix]
    try:
        x[ix] = old + h
        plus = _evaluate(f, x)
        x[ix] = old - h
        minus = _evaluate(f, x)
    finally:
        x[ix] = old
    return plus, minus


def _require_scalar(value, where):
    """Raise ValueError unless f's value is a scalar (0-d)."""
    if value.ndim != 0:
        raise ValueError(
            f"{where}: f must return a scalar, but returned an array of shape "
            f"{value.shape}. Fix: return the loss only (e.g. loss, not (loss, grads)), "
            "or use eval_numerical_gradient_array for array-valued f."
        )


def eval_numerical_gradient(f, x, verbose=False, h=H):
    """Numerical gradient of a scalar function f at x.

    Inputs:
    - f: function taking x and returning a scalar.
    - x: float64 array of any shape; perturbed in place and restored exactly (a float32
      array: a float64 copy of it, with a warning).
    - verbose: if True, print each index and its gradient.
    - h: step of the centred difference.

    Returns:
    - grad: float64 array of the shape of x, grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h).
    """
    x, upcast = _upcast(x, "eval_numerical_gradient")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index", "zerosize_ok"])
    while not it.finished:
        ix = it.multi_index
        plus, minus = _centred_values(f, x, ix, h)
        _require_scalar(plus, "eval_numerical_gradient")
        grad[ix] = (plus - minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    _require_f_reads_its_argument(grad, upcast, "eval_numerical_gradient")
    return grad


def eval_numerical_gradient_array(f, x, df, h=H):
    """Numerical gradient of sum(f(x) * df) at x, for an array-valued f.

    Inputs:
    - f: function taking x and returning an array of the same shape as df.
    - x: float64 array of any shape; perturbed in place and restored exactly (a float32
      array: a float64 copy of it, with a warning).
    - df: upstream gradient, array of the shape of f(x).
    - h: step of the centred difference.

    Returns:
    - grad: float64 array of the shape of x,
      grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * df) / (2h).
    """
    x, upcast = _upcast(x, "eval_numerical_gradient_array")
    df = np.asarray(df)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index", "zerosize_ok"])
    while not it.finished:
        ix = it.multi_index
        plus, minus = _centred_values(f, x, ix, h)
        if plus.shape != df.shape:
            raise ValueError(
                f"eval_numerical_gradient_array: f returned shape {plus.shape} but df "
                f"has shape {df.shape}. Fix: pass df shaped like f's output (the "
                "upstream gradient dout)."
            )
        grad[ix] = np.sum((plus - minus) * df) / (2 * h)
        it.iternext()
    _require_f_reads_its_argument(grad, upcast, "eval_numerical_gradient_array")
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=H, seed=0):
    """Compare analytic_grad with numerical gradients at num_checks random indices.

    Inputs:
    - f: function taking x and returning a scalar.
    - x: float64 array of any shape; perturbed in place and restored exactly.
    - analytic_grad: array of the same shape as x, the gradient to check.
    - num_checks: number of indices, drawn with replacement.
    - h: step of the centred difference.
    - seed: seed of np.random.default_rng, so the same indices are drawn each run.

    Prints one line per check (index, numerical, analytic, relative error).

    Returns:
    - the largest relative error (see rel_error) over the checks, a float.
    """
    _require_float64(x, "grad_check_sparse")
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(
            f"grad_check_sparse: analytic_grad has shape {analytic_grad.shape} but x "
            f"has shape {x.shape}. Fix: pass the gradient with respect to this x."
        )
    if num_checks < 1:
        raise ValueError(f"grad_check_sparse: num_checks must be at least 1, got {num_checks}.")
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(m)) for m in x.shape)
        plus, minus = _centred_values(f, x, ix, h)
        _require_scalar(plus, "grad_check_sparse")
        numerical = float((plus - minus) / (2 * h))
        analytic = float(analytic_grad[ix])
        error = rel_error(numerical, analytic)
        print(f"{ix} numerical: {numerical:+.6e} analytic: {analytic:+.6e} "
              f"relative error: {error:.2e}")
        errors.append(error)
    return float(np.max(errors))  # np.max, unlike max, keeps a NaN visible


def rel_error(x, y):
    """Largest relative error max(|x - y| / max(1e-8, |x| + |y|)) over elements.

    The 1e-8 floor (REL_ERROR_FLOOR) keeps values that are both ~0 from dividing
    by ~0: then the result is |x - y| * 1e8. A NaN anywhere gives NaN.

    Inputs:
    - x, y: scalars or arrays of the same shape.

    Returns:
    - a float; 0.0 for empty arrays.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(
            f"rel_error: x has shape {x.shape} but y has shape {y.shape}; they must "
            "match. Fix: compare the same quantity (check for a missing reshape or sum)."
        )
    if x.size == 0:
        return 0.0
    denominator = np.maximum(REL_ERROR_FLOOR, np.abs(x) + np.abs(y))
    return float(np.max(np.abs(x - y) / denominator))
