"""Seeded-bug submissions ("mutants"): the reference with one realistic mistake each.

Each mutant is declared, not hand-copied: which notebook, which answer cell (by its
nbgrader grade_id), which exact text to replace with what. `write_mutant` applies the
edit to a copy of the reference notebooks and refuses an edit whose text is not found
exactly once, so a mutant can never silently turn into the reference.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import RUN_ARTIFACTS


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str   # the mistake, as a student would make it
    notebook: str
    cell: str          # grade_id of the answer cell that holds the mistake
    find: str
    replace: str


CATALOGUE = (
    Mutant("mul_gate_no_swap", "the multiply gate does not swap its inputs",
           "1_computational_graphs.ipynb", "task_1_1_gates",
           "return dout * y, dout * x", "return dout * x, dout * y"),
    Mutant("affine_no_reshape", "x is not reshaped to (N, D) in the affine layer",
           "2_layers.ipynb", "task_2_1_affine_forward",
           "out = x.reshape(x.shape[0], -1) @ w + b", "out = x @ w + b"),
    Mutant("dw_not_transposed", "dw = x @ dout instead of x.T @ dout",
           "2_layers.ipynb", "task_2_2_affine_backward",
           "dw = x_flat.T @ dout", "dw = x_flat @ dout"),
    Mutant("dx_not_reshaped", "dx is not reshaped back to the shape of x",
           "2_layers.ipynb", "task_2_2_affine_backward",
           "dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T"),
    Mutant("db_wrong_axis", "db sums over the wrong axis",
           "2_layers.ipynb", "task_2_2_affine_backward",
           "db = dout.sum(axis=0)", "db = dout.sum(axis=1)"),
    Mutant("relu_mask_on_dout", "ReLU backward masks on dout instead of the input",
           "2_layers.ipynb", "task_2_3_relu_backward",
           "dx = dout * (x > 0)", "dx = dout * (dout > 0)"),
    Mutant("softmax_no_max_shift", "softmax without subtracting the max score",
           "2_layers.ipynb", "task_2_5_softmax_loss",
           "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x"),
    Mutant("softmax_loss_not_averaged", "the softmax loss and gradient are not divided by N",
           "2_layers.ipynb", "task_2_5_softmax_loss",
           "    dx /= N\n", "\n"),
    Mutant("reg_missing_from_gradients", "the regularization is missing from the gradients",
           "4_two_layer_net.ipynb", "task_4_2_two_layer_net",
           "        grads[\"W1\"] += self.reg * W1\n        grads[\"W2\"] += self.reg * W2\n", ""),
    Mutant("reg_without_half", "the loss's regularization lacks the factor 0.5",
           "4_two_layer_net.ipynb", "task_4_2_two_layer_net",
           "loss = data_loss + 0.5 * self.reg", "loss = data_loss + self.reg"),
    Mutant("momentum_wrong_sign", "the momentum update adds the gradient",
           "5_solver.ipynb", "task_5_1_update_rules",
           "v = config[\"momentum\"] * v - config[\"learning_rate\"] * dw",
           "v = config[\"momentum\"] * v + config[\"learning_rate\"] * dw"),
    Mutant("velocity_not_stored", "the velocity is not stored back in the config",
           "5_solver.ipynb", "task_5_1_update_rules",
           "    config[\"velocity\"] = v\n", ""),
    Mutant("lr_decay_not_applied", "the learning rate is never decayed",
           "5_solver.ipynb", "task_5_2_solver",
           "config[\"learning_rate\"] *= self.lr_decay", "config[\"learning_rate\"] *= 1.0"),
    Mutant("best_params_not_copied", "the best parameters are kept by reference, not copied",
           "5_solver.ipynb", "task_5_2_solver",
           "self.best_params = {name: w.copy() for name, w in self.model.params.items()}\n        ### END",
           "self.best_params = self.model.params\n        ### END"),
)
BY_NAME = {mutant.name: mutant for mutant in CATALOGUE}


class MutantError(ValueError):
    """A mutant's edit does not apply to the reference notebooks."""


def write_mutant(mutant: Mutant, reference_dir: Path, dest: Path) -> Path:
    """Copy the reference notebooks to `dest` and apply the mutant's one edit there."""
    shutil.copytree(reference_dir, dest, ignore=RUN_ARTIFACTS)
    path = dest / mutant.notebook
    notebook = nbformat.read(path, as_version=4)
    cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == mutant.cell]
    if len(cells) != 1:
        raise MutantError(f"{mutant.name}: {mutant.notebook} has {len(cells)} cells with grade_id {mutant.cell!r}")
    count = cells[0].source.count(mutant.find)
    if count != 1:
        raise MutantError(f"{mutant.name}: the text to replace occurs {count} times in {mutant.cell}, "
                          f"expected once: {mutant.find!r}")
    cells[0].source = cells[0].source.replace(mutant.find, mutant.replace)
    nbformat.write(notebook, path)
    return dest
