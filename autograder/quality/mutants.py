"""Seeded-bug submissions ("mutants"): the reference with one realistic mistake each.

Each mutant is declared, not hand-copied: which notebook, which answer cell (by its
nbgrader grade_id), which exact text to replace with what. `write_mutant` applies the
edit to a copy of the reference notebooks and refuses an edit whose text is not found
exactly once, so a mutant can never silently turn into the reference.

Each mutant also declares what grading it must produce (checked by `adequacy`): the
tests it must fail (every other test must pass) and a phrase the failure message of
the first of them must contain, so that a student reading it could find the line.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..course import RUN_ARTIFACTS
from nn_helpers.cells import grade_id, is_answer


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str   # the mistake, as a student would make it
    notebook: str
    cell: str          # grade_id of the answer cell that holds the mistake
    find: str
    replace: str
    must_fail: tuple[str, ...] = ()   # grade_ids; the first is the test of the function with the mistake
    cause: str = ""                   # a phrase its failure message must contain
    may_fail: tuple[str, ...] = ()    # threshold tests this mistake leaves to training noise


CATALOGUE = (
    Mutant("mul_gate_no_swap", "the multiply gate does not swap its inputs",
           "1_computational_graphs.ipynb", "task_1_1_gates",
           "return dout * y, dout * x", "return dout * x, dout * y",
           must_fail=("test_1_1_gates", "test_1_2_simple_graph"),
           cause='the multiply gate swaps its inputs'),
    Mutant("max_gate_routes_to_both", "the max gate sends the gradient to both inputs",
           "1_computational_graphs.ipynb", "task_1_1_gates",
           "return dout * x_wins, dout * ~x_wins", "return dout, dout",
           must_fail=("test_1_1_gates",),
           cause='routes the whole gradient to the larger input only'),
    Mutant("sigmoid_circuit_uses_sigmoid", "the sigmoid's local gradient is taken as sigmoid(s), not (1 - s) s",
           "1_computational_graphs.ipynb", "task_1_3_sigmoid_circuit",
           "ds = (1.0 - f) * f", "ds = f",
           must_fail=("test_1_3_sigmoid_circuit",),
           cause='local gradient is (1 - f) * f'),
    Mutant("matvec_dW_transposed", "dW of ||Wx||^2 is outer(x, dq), transposed",
           "1_computational_graphs.ipynb", "task_1_4_matvec_l2",
           "np.outer(dq, x)", "np.outer(x, dq)",
           must_fail=("test_1_4_matvec_l2",),
           cause='not its transpose'),
    Mutant("affine_no_reshape", "x is not reshaped to (N, D) in the affine layer",
           "2_layers.ipynb", "task_2_1_affine_forward",
           "out = x.reshape(x.shape[0], -1) @ w + b", "out = x @ w + b",
           must_fail=("test_2_1_affine_forward", "test_2_2_affine_backward", "test_4_1_affine_relu", "test_4_2_gradients", "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause='raised in affine_forward, line 16: out = x @ w + b'),
    Mutant("dw_not_transposed", "dw = x @ dout instead of x.T @ dout",
           "2_layers.ipynb", "task_2_2_affine_backward",
           "dw = x_flat.T @ dout", "dw = x_flat @ dout",
           must_fail=("test_2_2_affine_backward", "test_4_1_affine_relu", "test_4_2_loss_known_values", "test_4_2_gradients", "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause='raised in affine_backward, line 18: dw = x_flat @ dout'),
    Mutant("dx_not_reshaped", "dx is not reshaped back to the shape of x",
           "2_layers.ipynb", "task_2_2_affine_backward",
           "dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T",
           must_fail=("test_2_2_affine_backward", "test_4_1_affine_relu"),
           cause='expected shape (10, 2, 3), saw shape (10, 6)'),
    Mutant("db_wrong_axis", "db sums over the wrong axis",
           "2_layers.ipynb", "task_2_2_affine_backward",
           "db = dout.sum(axis=0)", "db = dout.sum(axis=1)",
           must_fail=("test_2_2_affine_backward", "test_4_1_affine_relu", "test_4_2_gradients", "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause='db (x of shape (10, 2, 3)): expected shape (5,), saw shape (10,)'),
    Mutant("relu_mask_on_dout", "ReLU backward masks on dout instead of the input",
           "2_layers.ipynb", "task_2_3_relu_backward",
           "dx = dout * (x > 0)", "dx = dout * (dout > 0)",
           must_fail=("test_2_3_relu_backward", "test_4_1_affine_relu", "test_4_2_gradients", "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause='not from dout'),
    Mutant("softmax_no_max_shift", "softmax without subtracting the max score",
           "2_layers.ipynb", "task_2_5_softmax_loss",
           "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x",
           must_fail=("test_2_5_softmax_large_scores",),
           cause='shift by the max first'),
    Mutant("softmax_grad_missing_minus_one", "the softmax gradient does not subtract 1 at the correct class",
           "2_layers.ipynb", "task_2_5_softmax_loss",
           "    dx[np.arange(N), y] -= 1.0\n", "",
           must_fail=("test_2_5_softmax_loss", "test_2_5_softmax_large_scores", "test_4_2_gradients", "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause='subtract 1 from the probability of the correct class'),
    Mutant("softmax_grad_not_averaged", "the softmax gradient is not divided by N",
           "2_layers.ipynb", "task_2_5_softmax_loss",
           "    dx /= N\n", "\n",
           must_fail=("test_2_5_softmax_loss", "test_2_5_softmax_large_scores", "test_4_2_gradients", "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause='divide by N'),
    Mutant("reg_missing_from_gradients", "the regularization is missing from the gradients",
           "4_two_layer_net.ipynb", "task_4_2_two_layer_net",
           "        grads[\"W1\"] += self.reg * W1\n        grads[\"W2\"] += self.reg * W2\n", "",
           must_fail=("test_4_2_gradients",),
           cause='the regularization gradient reg * W is missing',
           # trained without the gradient of the penalty, the saved model lands at 0.516 against a
           # threshold of 0.52: close enough that another CPU's rounding may decide it
           may_fail=("test_7_2_saved_model",)),
    Mutant("reg_without_half", "the loss's regularization lacks the factor 0.5",
           "4_two_layer_net.ipynb", "task_4_2_two_layer_net",
           "loss = data_loss + 0.5 * self.reg", "loss = data_loss + self.reg",
           must_fail=("test_4_2_loss_known_values", "test_4_2_gradients"),
           cause='needs the factor 0.5'),
    Mutant("momentum_wrong_sign", "the momentum update adds the gradient",
           "5_solver.ipynb", "task_5_1_update_rules",
           "v = config[\"momentum\"] * v - config[\"learning_rate\"] * dw",
           "v = config[\"momentum\"] * v + config[\"learning_rate\"] * dw",
           must_fail=("test_5_1_sgd_momentum", "test_5_2_step", "test_5_2_train", "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause='the velocity subtracts the gradient'),
    Mutant("velocity_not_stored", "the velocity is not stored back in the config",
           "5_solver.ipynb", "task_5_1_update_rules",
           "    config[\"velocity\"] = v\n", "",
           must_fail=("test_5_1_sgd_momentum", "test_5_2_step", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause="store the new velocity in config['velocity']"),
    Mutant("lr_decay_not_applied", "the learning rate is never decayed",
           "5_solver.ipynb", "task_5_2_solver",
           "config[\"learning_rate\"] *= self.lr_decay", "config[\"learning_rate\"] *= 1.0",
           must_fail=("test_5_2_end_of_epoch", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause='multiply each learning rate by lr_decay'),
    Mutant("best_params_not_copied", "the best parameters are kept by reference, not copied",
           "5_solver.ipynb", "task_5_2_solver",
           "self.best_params = {name: w.copy() for name, w in self.model.params.items()}\n        ### END",
           "self.best_params = self.model.params\n        ### END",
           must_fail=("test_5_2_end_of_epoch",),
           cause='keep a copy of the parameters'),
    Mutant("random_search_not_log_uniform", "learning rates drawn uniformly instead of log-uniformly",
           "7_hyperparameter_search.ipynb", "task_7_1_search",
           "hparams[name] = float(10 ** rng.uniform(np.log10(low), np.log10(high)))",
           "hparams[name] = float(rng.uniform(low, high))",
           must_fail=("test_7_1_random_search",),
           cause='draw the exponent uniformly'),
)
BY_NAME = {mutant.name: mutant for mutant in CATALOGUE}


def write_reference(source_dir: Path, release_dir: Path, dest: Path) -> Path:
    """The reference solution as a student would submit it: the release with the reference's answers.

    (The source notebooks themselves hold hidden tests: graded as a submission, their test
    cells would rightly be flagged as edited.)
    """
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(release_dir).glob("*.ipynb")):
        answers = {grade_id(c): c.source for c in nbformat.read(Path(source_dir) / path.name, as_version=4).cells
                   if is_answer(c)}
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if is_answer(cell):
                cell.source = answers[grade_id(cell)]
        nbformat.write(notebook, dest / path.name)
    return dest


class MutantError(ValueError):
    """A mutant's edit does not apply to the reference notebooks."""


def write_mutant(mutant: Mutant, reference_dir: Path, dest: Path) -> Path:
    """Copy the reference notebooks to `dest` and apply the mutant's one edit there."""
    shutil.copytree(reference_dir, dest, ignore=RUN_ARTIFACTS)
    path = dest / mutant.notebook
    notebook = nbformat.read(path, as_version=4)
    cells = [c for c in notebook.cells if grade_id(c) == mutant.cell]
    if len(cells) != 1:
        raise MutantError(f"{mutant.name}: {mutant.notebook} has {len(cells)} cells with grade_id {mutant.cell!r}")
    count = cells[0].source.count(mutant.find)
    if count != 1:
        raise MutantError(f"{mutant.name}: the text to replace occurs {count} times in {mutant.cell}, "
                          f"expected once: {mutant.find!r}")
    cells[0].source = cells[0].source.replace(mutant.find, mutant.replace)
    nbformat.write(notebook, path)
    return dest
