"""Plots for the two-layer-net notebooks: training curves, weight grids, gradient norms.

Every function returns a matplotlib Figure and never calls plt.show(), so it works
headless. The figure is closed in pyplot before it is returned: a notebook shows it
once, as the cell's value, and loops do not pile up open figures. To show it
elsewhere use ``display(fig)`` or ``fig.savefig(path)``.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

HISTORY_KEYS = ("loss_history", "train_acc_history", "val_acc_history")
# (linestyle, marker, size) per curve: curves that coincide (ReLU and leaky ReLU) stay visible,
# each later one dashed and with smaller hollow markers inside the earlier ones
LINE_STYLES = (("-", "o", 9), ("--", "s", 7), (":", "^", 5), ("-.", "D", 3))


def _detached_figure(**kwargs):
    """Return a new Figure that pyplot no longer tracks."""
    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def _history_values(history):
    """Return the three history sequences from a dict or an object (e.g. a Solver)."""
    if isinstance(history, dict):
        missing = [k for k in HISTORY_KEYS if k not in history]
        found = sorted(map(str, history))
        get = history.__getitem__
    else:
        missing = [k for k in HISTORY_KEYS if not hasattr(history, k)]
        found = sorted(a for a in dir(history) if not a.startswith("_"))
        get = lambda k: getattr(history, k)  # noqa: E731
    if missing:
        raise ValueError(
            f"plot_training_history: missing {missing}; found {found}. Fix: pass a "
            f"Solver after solver.train(), or a dict with keys {list(HISTORY_KEYS)}."
        )
    return [np.asarray(get(k), dtype=np.float64).ravel() for k in HISTORY_KEYS]


def plot_training_history(history):
    """Plot loss per iteration and train/val accuracy per epoch.

    Inputs:
    - history: an object with attributes loss_history, train_acc_history and
      val_acc_history (e.g. a Solver), or a dict with those keys; each a sequence.
      The accuracies are a Solver's: entry e is the model after e epochs, entry 0 the
      untrained model (num_epochs + 1 entries).

    Returns:
    - fig: Figure with two stacked axes, loss on top and accuracy below, the accuracy
      plotted against epochs 0, 1, ..., num_epochs.
    """
    loss, train_acc, val_acc = _history_values(history)
    if loss.size == 0:
        raise ValueError("plot_training_history: loss_history is empty, nothing to "
                         "plot. Fix: train first (solver.train()).")
    fig = _detached_figure(figsize=(8, 7))
    ax_loss, ax_acc = fig.subplots(2, 1)
    ax_loss.plot(loss, "o", markersize=2, alpha=0.6)
    ax_loss.set(title="Training loss", xlabel="Iteration", ylabel="Loss")
    ax_acc.plot(np.arange(train_acc.size), train_acc, "-o", label="train")
    ax_acc.plot(np.arange(val_acc.size), val_acc, "-o", label="val")
    ax_acc.set(title="Classification accuracy", xlabel="Epoch (0: untrained)", ylabel="Accuracy")
    ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_acc.legend(loc="lower right")
    fig.tight_layout()
    return fig


def visualize_grid(Xs, ubound=255.0, padding=1, background=0.0):
    """Tile N images into one square grid image, each rescaled to [0, ubound].

    Inputs:
    - Xs: array of shape (N, H, W, C), finite values.
    - ubound: each tile is rescaled so its min maps to 0 and its max to ubound
      (a constant tile becomes 0).
    - padding: pixels between neighbouring tiles.
    - background: the value of the padding and of unused cells (0 as in CS231n's version).

    Returns:
    - grid: float array of shape (G*H + (G-1)*padding, G*W + (G-1)*padding, C),
      with G = ceil(sqrt(N)); tiles fill rows left to right.
    """
    Xs = np.asarray(Xs, dtype=np.float64)
    if Xs.ndim != 4 or Xs.shape[0] == 0:
        raise ValueError(f"visualize_grid: Xs must have shape (N, H, W, C) with N >= 1, "
                         f"got shape {Xs.shape}. Fix: reshape, e.g. W.T.reshape(-1, 32, 32, 3).")
    if not np.all(np.isfinite(Xs)):
        raise ValueError("visualize_grid: Xs contains NaN or inf (did training diverge?). "
                         "Fix: lower the learning rate and retrain.")
    N, H, W, C = Xs.shape
    G = math.ceil(math.sqrt(N))
    grid = np.full((G * H + (G - 1) * padding, G * W + (G - 1) * padding, C), float(background))
    for n, img in enumerate(Xs):
        y0, x0 = (n // G) * (H + padding), (n % G) * (W + padding)
        low, high = img.min(), img.max()
        grid[y0:y0 + H, x0:x0 + W] = ubound * (img - low) / (high - low) if high > low else 0.0
    return grid


def show_net_weights(W1):
    """Show first-layer weights of a CIFAR-10 net as 32x32 colour images.

    Inputs:
    - W1: array of shape (3072, H); column j holds hidden unit j's weights for a
      flattened 32x32x3 image.

    Returns:
    - fig: Figure with the H templates in one grid image on white, axes hidden; rows of
      the square grid that no template reaches are left out.
    """
    W1 = np.asarray(W1)
    if W1.ndim != 2 or W1.shape[0] != 32 * 32 * 3:
        raise ValueError(f"show_net_weights: W1 must have shape (3072, H), got {W1.shape}. "
                         "Fix: pass net.params['W1'] of a net on flattened 32x32x3 images "
                         "(transpose it if it is (H, 3072)).")
    images = W1.reshape(32, 32, 3, -1).transpose(3, 0, 1, 2)
    fig = _detached_figure(figsize=(6, 6))
    ax = fig.subplots()
    columns, padding = math.ceil(math.sqrt(images.shape[0])), 3
    rows = math.ceil(images.shape[0] / columns)
    grid = visualize_grid(images, padding=padding, background=255.0)[:rows * (32 + padding) - padding]
    ax.imshow(grid.astype(np.uint8))
    ax.set_title(f"First-layer weights ({W1.shape[1]} hidden units)")
    ax.axis("off")
    return fig


def plot_layer_gradient_norms(norms):
    """Plot gradient norm per layer, one line per activation, on a log scale.

    Inputs:
    - norms: dict mapping a label (e.g. "sigmoid", "relu") to a sequence of
      positive, finite gradient norms, layer 1 first.

    Returns:
    - fig: Figure with x = layer index (from 1), log-scale y, legend; each curve with its own
      line style and marker, so that curves on top of each other stay visible.
    """
    if not isinstance(norms, dict) or not norms:
        raise ValueError("plot_layer_gradient_norms: norms must be a non-empty dict "
                         "{label: [norm of layer 1, norm of layer 2, ...]}.")
    fig = _detached_figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for label, values in norms.items():
        values = np.asarray(values, dtype=np.float64).ravel()
        bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
        if values.size == 0 or bad.size:
            where = f"layer {bad[0] + 1} is {values[bad[0]]}" if bad.size else "it is empty"
            raise ValueError(f"plot_layer_gradient_norms: norms[{label!r}] needs positive "
                             f"finite values for a log axis, but {where}. A 0 means no "
                             "gradient reached that layer (e.g. all ReLUs dead).")
        linestyle, marker, size = LINE_STYLES[len(ax.lines) % len(LINE_STYLES)]
        ax.plot(np.arange(1, values.size + 1), values, linestyle=linestyle, marker=marker, markersize=size,
                markerfacecolor="none", label=str(label))
    ax.set_yscale("log")
    ax.set(title="Gradient norm per layer", xlabel="Layer (1 = first)",
           ylabel="Gradient norm (log scale)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    fig.tight_layout()
    return fig
