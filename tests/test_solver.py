"""Tests for the reference Solver (notebook 5): its histories and its learning-rate decay."""
from __future__ import annotations

import numpy as np
import pytest

import nn_helpers.notebook_import
from autograder.trusted.tests import loading_references
from model_fixtures import REFERENCE


class Linear:
    """A linear classifier with a squared loss: the smallest model a Solver can train."""

    def __init__(self, W):
        self.params = {"W": W}

    def loss(self, X, y=None):
        scores = X @ self.params["W"]
        if y is None:
            return scores
        diff = scores - np.eye(scores.shape[1])[y]
        return 0.5 * np.sum(diff ** 2) / len(X), {"W": X.T @ diff / len(X)}


@pytest.fixture(scope="module")
def Solver() -> type:
    with loading_references(REFERENCE):
        return nn_helpers.notebook_import.load_from_notebook("5_solver.ipynb", "Solver")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 20)
    X = np.hstack([np.eye(3)[y] * 2 + 0.3 * rng.standard_normal((60, 3)), np.ones((60, 1))])
    return {"X_train": X, "y_train": y, "X_val": X[::2], "y_val": y[::2]}


def test_the_histories_start_with_the_untrained_model(Solver, data):
    """Do train()'s accuracy histories hold num_epochs + 1 entries, the first the untrained model's?"""
    solver = Solver(Linear(np.zeros((4, 3))), data, optim_config={"learning_rate": 0.5}, num_epochs=3, batch_size=20,
                    seed=0, verbose=False)
    solver.train()
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 3 + 1
    assert solver.train_acc_history[0] == solver.val_acc_history[0] == pytest.approx(1 / 3)   # all scores 0: class 0
    assert solver.best_val_acc == max(solver.val_acc_history) > 1 / 3


def test_the_untrained_model_can_be_the_best(Solver, data):
    """When no epoch beats the untrained model, does train() leave its parameters in the model?"""
    perfect = np.vstack([np.eye(3) * 5, np.zeros((1, 3))])
    solver = Solver(Linear(perfect.copy()), data, optim_config={"learning_rate": 0.9}, num_epochs=2, batch_size=20,
                    seed=0, verbose=False)
    solver.train()
    assert solver.val_acc_history[0] == solver.best_val_acc == 1.0
    assert np.array_equal(solver.model.params["W"], perfect)


def test_an_epoch_ends_without_a_learning_rate_before_the_first_step(Solver, data):
    """Without optim_config, does _end_of_epoch before any step decay nothing (no KeyError), and the default after?"""
    solver = Solver(Linear(np.zeros((4, 3))), data, lr_decay=0.5, seed=0, verbose=False)
    solver._end_of_epoch()
    assert solver.optim_configs["W"] == {} and len(solver.val_acc_history) == 1
    solver._step()
    solver._end_of_epoch()
    assert solver.optim_configs["W"]["learning_rate"] == pytest.approx(0.5 * 1e-2)   # sgd's default, decayed once
