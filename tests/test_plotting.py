"""Tests for nn_helpers.plotting: figures render headless and inputs are checked."""

import matplotlib

matplotlib.use("Agg")  # headless: must run before pyplot is imported

import io  # noqa: E402
import re  # noqa: E402
import types  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from nn_helpers import plotting  # noqa: E402

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=30)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

HISTORY = {
    "loss_history": [2.3, 2.1, 1.9, 1.8, 1.7, 1.6],
    "train_acc_history": [0.1, 0.3, 0.4],
    "val_acc_history": [0.1, 0.25, 0.35],
}


@pytest.fixture(autouse=True)
def close_figures():
    """Close every pyplot figure after each test."""
    yield
    plt.close("all")


def png_bytes(fig):
    """Render fig to PNG and return the bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def legend_labels(ax):
    """Return the legend texts of ax."""
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_training_history_from_dict():
    """Does a dict history give loss on top and labelled train/val accuracy below, as PNG?"""
    fig = plotting.plot_training_history(HISTORY)
    assert png_bytes(fig).startswith(PNG_MAGIC)
    ax_loss, ax_acc = fig.axes
    assert list(ax_loss.lines[0].get_ydata()) == HISTORY["loss_history"]
    assert ax_loss.get_xlabel() == "Iteration" and ax_acc.get_xlabel() == "Epoch (0: untrained)"
    assert legend_labels(ax_acc) == ["train", "val"]
    assert list(ax_acc.lines[1].get_ydata()) == HISTORY["val_acc_history"]


def test_accuracy_is_plotted_against_epochs_from_0():
    """Is accuracy entry e drawn at epoch e, the untrained model (entry 0) at epoch 0, with whole-number ticks?"""
    fig = plotting.plot_training_history(HISTORY)
    ax_acc = fig.axes[1]
    for line in ax_acc.lines:
        assert list(line.get_xdata()) == [0, 1, 2]
    fig.canvas.draw()
    assert all(float(tick).is_integer() for tick in ax_acc.get_xticks())


def test_training_history_from_object():
    """Does an object with the three history attributes (a Solver) plot the same data?"""
    solver = types.SimpleNamespace(**HISTORY, model=None)
    fig = plotting.plot_training_history(solver)
    assert png_bytes(fig).startswith(PNG_MAGIC)
    assert list(fig.axes[1].lines[0].get_ydata()) == HISTORY["train_acc_history"]


@pytest.mark.parametrize("missing", plotting.HISTORY_KEYS)
@pytest.mark.parametrize("as_object", [False, True])
def test_training_history_missing_key_is_named(missing, as_object):
    """Does a history lacking one key raise ValueError naming that key, for dicts and objects?"""
    partial = {k: v for k, v in HISTORY.items() if k != missing}
    history = types.SimpleNamespace(**partial) if as_object else partial
    with pytest.raises(ValueError, match=missing):
        plotting.plot_training_history(history)


def test_training_history_empty_loss_raises():
    """Does an untrained (empty) history raise ValueError telling to train first?"""
    empty = {k: [] for k in plotting.HISTORY_KEYS}
    with pytest.raises(ValueError, match="train"):
        plotting.plot_training_history(empty)


def test_figures_are_detached_from_pyplot():
    """Do the plot functions leave no figure open in pyplot (so notebooks show each once)?"""
    plt.close("all")
    plotting.plot_training_history(HISTORY)
    plotting.show_net_weights(np.zeros((3072, 2)))
    plotting.plot_layer_gradient_norms({"relu": [1.0, 0.5]})
    assert plt.get_fignums() == []


def test_visualize_grid_shape_and_range():
    """Do 5 images of 4x3 with padding 1 give a 3x3 grid of shape (14, 11, 2) in [0, ubound]?"""
    Xs = np.random.default_rng(0).standard_normal((5, 4, 3, 2))
    grid = plotting.visualize_grid(Xs, ubound=10.0, padding=1)
    assert grid.shape == (3 * 4 + 2, 3 * 3 + 2, 2)
    assert grid.min() == 0.0 and grid.max() == pytest.approx(10.0)


@DETERMINISTIC
@given(n=st.integers(1, 10), h=st.integers(1, 5), w=st.integers(1, 5),
       c=st.integers(1, 3), padding=st.integers(0, 3), seed=st.integers(0, 99))
def test_visualize_grid_each_tile_spans_zero_to_ubound(n, h, w, c, padding, seed):
    """Is every tile rescaled to exactly [0, ubound], placed row by row in a ceil(sqrt(N)) grid?"""
    Xs = np.random.default_rng(seed).normal(5.0, 3.0, (n, h, w, c))
    grid = plotting.visualize_grid(Xs, ubound=255.0, padding=padding)
    g = int(np.ceil(np.sqrt(n)))
    assert grid.shape == (g * h + (g - 1) * padding, g * w + (g - 1) * padding, c)
    for i in range(n):
        y0, x0 = (i // g) * (h + padding), (i % g) * (w + padding)
        tile = grid[y0:y0 + h, x0:x0 + w]
        expected = 255.0 * (Xs[i] - Xs[i].min()) / np.ptp(Xs[i]) if np.ptp(Xs[i]) else 0 * Xs[i]
        np.testing.assert_allclose(tile, expected, atol=1e-9)


def test_visualize_grid_fills_padding_and_unused_cells_with_the_background():
    """With background 255, are the padding and the unused cells 255, and the tiles as without it?"""
    Xs = np.random.default_rng(2).standard_normal((3, 2, 2, 1))
    grid = plotting.visualize_grid(Xs, padding=1, background=255.0)
    assert (grid[2, :] == 255).all() and (grid[3:, 3:] == 255).all()
    np.testing.assert_array_equal(grid[:2, :2], plotting.visualize_grid(Xs, padding=1)[:2, :2])


def test_visualize_grid_constant_tile_is_zero():
    """Does a constant image become a zero tile rather than NaN?"""
    grid = plotting.visualize_grid(np.full((1, 2, 2, 3), 7.0))
    assert np.array_equal(grid, np.zeros((2, 2, 3)))


@pytest.mark.parametrize("shape", [(4, 4, 3), (0, 4, 4, 3)])
def test_visualize_grid_rejects_bad_shapes(shape):
    """Does a non-4-d or empty Xs raise ValueError showing the shape it got?"""
    with pytest.raises(ValueError, match=r"\(N, H, W, C\).*" + re.escape(str(shape))):
        plotting.visualize_grid(np.zeros(shape))


def test_visualize_grid_rejects_nan():
    """Does a NaN in the weights raise ValueError hinting at divergence?"""
    Xs = np.ones((2, 2, 2, 3))
    Xs[1, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        plotting.visualize_grid(Xs)


def test_show_net_weights_draws_uint8_grid_without_axes():
    """Does a (3072, 10) W1 show 32x32x3 uint8 tiles (padding 3) in 3 rows of 4, the last row's two unused
    cells and the padding white (no black block), axes off?"""
    W1 = np.random.default_rng(0).standard_normal((3072, 10))
    fig = plotting.show_net_weights(W1)
    assert png_bytes(fig).startswith(PNG_MAGIC)
    (ax,) = fig.axes
    image = ax.images[0].get_array()
    assert image.dtype == np.uint8
    assert image.shape == (3 * 32 + 2 * 3, 4 * 32 + 3 * 3, 3)
    assert (image[2 * 35:, 2 * 35:] == 255).all() and (image[32:35] == 255).all()
    assert not ax.axison


def test_show_net_weights_tile_is_unit_template():
    """Is tile j the column W1[:, j] reshaped to (32, 32, 3), rescaled to [0, 255]?"""
    W1 = np.random.default_rng(1).standard_normal((3072, 2))
    image = plotting.show_net_weights(W1).axes[0].images[0].get_array()
    template = W1[:, 1].reshape(32, 32, 3)
    expected = (255 * (template - template.min()) / np.ptp(template)).astype(np.uint8)
    np.testing.assert_array_equal(image[:32, 35:67], expected)


@pytest.mark.parametrize("shape", [(3071, 10), (10, 3072), (3072,), (3072, 2, 1)])
def test_show_net_weights_rejects_bad_shapes(shape):
    """Does a W1 that is not (3072, H) raise ValueError naming 3072 and the shape got?"""
    with pytest.raises(ValueError, match=r"3072.*" + re.escape(str(shape))):
        plotting.show_net_weights(np.zeros(shape))


def test_layer_gradient_norms_plot():
    """Is there one line per label over layers 1..L, a log y axis, a legend and axis titles?"""
    norms = {"sigmoid": [1e-1, 1e-3, 1e-6], "relu": [1.0, 0.8, 0.9], "leaky_relu": [1.0, 1.1, 1.0]}
    fig = plotting.plot_layer_gradient_norms(norms)
    assert png_bytes(fig).startswith(PNG_MAGIC)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert legend_labels(ax) == list(norms)
    assert [list(line.get_xdata()) for line in ax.lines] == [[1, 2, 3]] * 3
    assert list(ax.lines[0].get_ydata()) == norms["sigmoid"]
    assert ax.get_xlabel() and ax.get_ylabel()


def test_curves_that_coincide_stay_apart_in_style():
    """Do two identical curves (ReLU and leaky ReLU at positive inputs) get different line styles and
    markers, the later one's markers smaller, so that the earlier one is not hidden under it?"""
    fig = plotting.plot_layer_gradient_norms({"relu": [1.0, 0.9], "leaky_relu": [1.0, 0.9], "tanh": [1.0, 1.1],
                                              "sigmoid": [1e-3, 1.0]})
    styles = [(line.get_linestyle(), line.get_marker()) for line in fig.axes[0].lines]
    sizes = [line.get_markersize() for line in fig.axes[0].lines]
    assert len(set(styles)) == 4 and sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 4


@pytest.mark.parametrize("norms, match", [
    ({}, "non-empty dict"),
    ([1.0, 2.0], "non-empty dict"),
    ({"relu": []}, "empty"),
    ({"relu": [1.0, 0.0]}, "layer 2"),
    ({"relu": [1.0, np.nan]}, "layer 2"),
    ({"relu": [-1.0]}, "layer 1"),
    ({"relu": [np.inf]}, "layer 1"),
])
def test_layer_gradient_norms_rejects_bad_input(norms, match):
    """Does a missing, empty, zero, NaN or negative norm raise ValueError saying where?"""
    with pytest.raises(ValueError, match=match):
        plotting.plot_layer_gradient_norms(norms)
