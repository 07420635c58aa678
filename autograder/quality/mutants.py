"""Seeded-bug submissions ("mutants"): the reference with one realistic mistake each.

Each mutant is declared, not hand-copied: which notebook, which answer cell (by its
nbgrader grade_id), which exact text to replace with what. `write_mutant` applies the
edit to a copy of the reference notebooks and refuses an edit whose text is not found
exactly once, so a mutant can never silently turn into the reference.

Each mutant also declares what grading it must produce (checked by `adequacy`): the
tests it must fail (every other test must pass) and a phrase the failure message of
the first of them must contain: the likely cause the test names (or, for a crash, the
line that raised), so that a student reading it could find the mistake.
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


# lr_decay_every_step moves the decay from _end_of_epoch into _step: one edit of the text from
# _step's last line to _end_of_epoch's decay, _end_of_epoch's docstring in between unchanged.
_STEP_END = "            self.optim_configs[name] = next_config\n        ### END SOLUTION\n"
_END_OF_EPOCH_START = '''
    def _end_of_epoch(self):
        """Bookkeeping at the end of each epoch.

        Decay the learning rate of every parameter's config by lr_decay, then record the
        accuracies with self._record_accuracies(). Without optim_config, a config holds no
        learning rate until the update rule's first call sets its default: decay only the
        learning rates a config holds (no KeyError before the first step).
        """
        ### BEGIN SOLUTION
'''
_EPOCH_DECAY = ("        for config in self.optim_configs.values():\n            if \"learning_rate\" in config:\n"
                "                config[\"learning_rate\"] *= self.lr_decay\n")
_STEP_DECAY = "            next_config[\"learning_rate\"] *= self.lr_decay\n"
_DECAY_IN_END_OF_EPOCH = _STEP_END + _END_OF_EPOCH_START + _EPOCH_DECAY
_DECAY_IN_STEP = _STEP_END.replace("        ### END", _STEP_DECAY + "        ### END") + _END_OF_EPOCH_START
# relu_on_scores makes the last layer a sandwich, forward and backward: one edit from the one call to the other.
_LAST_LAYER_AFFINE = '''scores, scores_cache = affine_forward(hidden, W2, b2)
        if y is None:
            return scores
        data_loss, dscores = softmax_loss(scores, y)
        loss = data_loss + 0.5 * self.reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
        grads = {}
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)'''


CATALOGUE = (
    Mutant("mul_gate_no_swap", "the multiply gate does not swap its inputs",
           "1_computational_graphs.ipynb", "task_1_1_gates",
           "return dout * y, dout * x", "return dout * x, dout * y",
           must_fail=("test_1_1_gates", "test_1_2_simple_graph", "test_1_5_copy_gate"),
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
    Mutant("add_gate_local_gradient_only", "the add gate returns its local gradient 1, not dout * 1",
           "1_computational_graphs.ipynb", "task_1_1_gates",
           "return dout * np.ones_like(dout), dout * np.ones_like(dout)", "return np.ones_like(dout), np.ones_like(dout)",
           must_fail=("test_1_1_gates", "test_1_2_simple_graph", "test_1_5_copy_gate"),
           cause="dx = dout * 1, not the local gradient 1 alone"),
    Mutant("max_gate_tie_to_y", "the max gate compares with > so that a tie sends the gradient to y",
           "1_computational_graphs.ipynb", "task_1_1_gates",
           "x_wins = np.asarray(x) >= np.asarray(y)", "x_wins = np.asarray(x) > np.asarray(y)",
           must_fail=("test_1_1_gates",),
           cause="on a tie the gradient goes to x"),
    Mutant("graph_backward_starts_from_f", "the backward pass starts from the value f instead of df/df = 1",
           "1_computational_graphs.ipynb", "task_1_2_simple_graph",
           "mul_gate_backward(1.0, mul_cache)", "mul_gate_backward(f, mul_cache)",
           must_fail=("test_1_2_simple_graph",),
           cause="starts from df/df = 1"),
    Mutant("sigmoid_circuit_exp_sign", "the sigmoid is computed as 1 / (1 + exp(s)), without the minus",
           "1_computational_graphs.ipynb", "task_1_3_sigmoid_circuit",
           "f = 1.0 / (1.0 + np.exp(-s))", "f = 1.0 / (1.0 + np.exp(s))",
           must_fail=("test_1_3_sigmoid_circuit",),
           cause="the minus sign of the exponent is missing"),
    Mutant("sigmoid_circuit_dx_uses_x", "df/dx multiplies the local gradient by x instead of w",
           "1_computational_graphs.ipynb", "task_1_3_sigmoid_circuit",
           "dx = np.array([w[0] * ds, w[1] * ds])", "dx = np.array([x[0] * ds, x[1] * ds])",
           must_fail=("test_1_3_sigmoid_circuit",),
           cause="df/dx[i] is w[i] times the local gradient"),
    Mutant("matvec_missing_factor_2", "the gradient of q ** 2 is taken as q, without the 2",
           "1_computational_graphs.ipynb", "task_1_4_matvec_l2",
           "dq = 2.0 * q", "dq = q",
           must_fail=("test_1_4_matvec_l2",),
           cause="the factor 2 is missing"),
    Mutant("matvec_dx_not_transposed", "dx of ||Wx||^2 is computed with W instead of W^T",
           "1_computational_graphs.ipynb", "task_1_4_matvec_l2",
           "W.T @ dq", "W @ dq",
           must_fail=("test_1_4_matvec_l2",),
           cause="dx is 2 W^T q: transpose W"),
    Mutant("staged_reciprocal_sign", "the reciprocal gate's local gradient is taken as 1/d^2, without its sign",
           "1_computational_graphs.ipynb", "task_1_3_staged",
           "dd = -1.0 / d ** 2", "dd = 1.0 / d ** 2",
           must_fail=("test_1_3_staged",),
           cause="its sign is missing"),
    Mutant("staged_exp_gradient_from_input", "the exp gate's local gradient is taken as its input t",
           "1_computational_graphs.ipynb", "task_1_3_staged",
           "dt = de * e", "dt = de * t",
           must_fail=("test_1_3_staged",),
           cause="its own output e = exp(t), not its input t"),
    Mutant("staged_negate_skipped", "the negate gate passes the gradient on unchanged",
           "1_computational_graphs.ipynb", "task_1_3_staged",
           "ds = dt * -1.0", "ds = dt",
           must_fail=("test_1_3_staged",),
           cause="multiplies the gradient by -1"),
    Mutant("copy_gate_keeps_one_branch", "the copy gate returns the gradient of one branch only",
           "1_computational_graphs.ipynb", "task_1_5_copy_gate",
           "return dout1 + dout2", "return dout1",
           must_fail=("test_1_5_copy_gate",),
           cause="gradients add where a value branches"),
    Mutant("branching_graph_one_branch", "x used twice, but only the add gate's gradient is kept",
           "1_computational_graphs.ipynb", "task_1_5_copy_gate",
           "dx = copy_gate_backward((dx1, dx2), copy_cache)", "dx = dx1",
           must_fail=("test_1_5_copy_gate",),
           cause="the sum of both branches"),
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
    Mutant("db_averaged", "db averages dout over the examples instead of summing",
           "2_layers.ipynb", "task_2_2_affine_backward",
           "db = dout.sum(axis=0)", "db = dout.mean(axis=0)",
           must_fail=("test_2_2_affine_backward", "test_4_1_affine_relu", "test_4_2_gradients"),
           cause="it does not average them"),
    Mutant("dx_not_reshaped", "dx is not reshaped back to the shape of x",
           "2_layers.ipynb", "task_2_2_affine_backward",
           "dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T",
           must_fail=("test_2_2_affine_backward", "test_4_1_affine_relu"),
           cause='expected shape (10, 2, 3), saw shape (10, 6)'),
    Mutant("db_wrong_axis", "db sums over the wrong axis",
           "2_layers.ipynb", "task_2_2_affine_backward",
           "db = dout.sum(axis=0)", "db = dout.sum(axis=1)",
           must_fail=("test_2_2_affine_backward", "test_4_1_affine_relu", "test_4_2_gradients", "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause='db sums dout over the examples (axis 0), one value per output'),
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
    Mutant("relu_forward_in_place", "relu_forward zeroes the negative entries of its input in place",
           "2_layers.ipynb", "task_2_3_relu_forward",
           "out = np.maximum(0, x)", "x[x < 0] = 0\n    out = x",
           must_fail=("test_2_3_relu_forward", "test_2_3_relu_backward"),
           cause="relu_forward changed its input in place"),
    Mutant("relu_mask_at_zero", "ReLU backward lets the gradient through where x == 0 (x >= 0)",
           "2_layers.ipynb", "task_2_3_relu_backward",
           "dx = dout * (x > 0)", "dx = dout * (x >= 0)",
           must_fail=("test_2_3_relu_backward",),
           cause="the mask is x > 0, not x >= 0"),
    Mutant("sigmoid_overflows", "the sigmoid is computed as 1 / (1 + exp(-x)), which overflows for large negative x",
           "2_layers.ipynb", "task_2_4_activations",
           "z = np.exp(-np.abs(x))\n    out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))",
           "out = 1.0 / (1.0 + np.exp(-x))",
           must_fail=("test_2_4_activations_forward",),
           cause="for negative x compute exp(x) / (1 + exp(x)) instead"),
    Mutant("leaky_relu_ignores_alpha", "the leaky ReLU's forward uses the slope 0.01 whatever alpha is",
           "2_layers.ipynb", "task_2_4_activations",
           "np.where(x > 0, x, alpha * x)", "np.where(x > 0, x, 0.01 * x)",
           must_fail=("test_2_4_activations_forward", "test_2_4_activations_backward"),
           cause="ignores its alpha argument"),
    Mutant("sigmoid_backward_reapplies_sigmoid", "sigmoid_backward takes the cached output for the input and applies the sigmoid again",
           "2_layers.ipynb", "task_2_4_activations",
           "    out = cache\n    return dout * out * (1.0 - out)",
           "    s = 1.0 / (1.0 + np.exp(-cache))\n    return dout * s * (1.0 - s)",
           must_fail=("test_2_4_activations_backward",),
           cause="without applying the sigmoid to it again"),
    Mutant("tanh_backward_without_dout", "tanh_backward returns the local gradient without multiplying by dout",
           "2_layers.ipynb", "task_2_4_activations",
           "return dout * (1.0 - out ** 2)", "return 1.0 - out ** 2",
           must_fail=("test_2_4_activations_backward",),
           cause="the upstream gradient dout is missing"),
    Mutant("leaky_relu_backward_passes_dout", "leaky_relu_backward passes dout through unchanged",
           "2_layers.ipynb", "task_2_4_activations",
           "return dout * np.where(x > 0, 1.0, alpha)", "return dout",
           must_fail=("test_2_4_activations_backward",),
           cause="dx is not dout itself"),
    Mutant("softmax_shifts_scores_in_place", "softmax_loss subtracts the max from the caller's scores in place",
           "2_layers.ipynb", "task_2_5_softmax_loss",
           "shifted = x - x.max(axis=1, keepdims=True)", "x -= x.max(axis=1, keepdims=True)\n    shifted = x",
           must_fail=("test_2_5_softmax_loss",),
           cause="softmax_loss shifted the caller's scores in place"),
    Mutant("softmax_normalised_over_examples", "the softmax normalises over the examples (axis 0) instead of the classes",
           "2_layers.ipynb", "task_2_5_softmax_loss",
           "np.exp(shifted).sum(axis=1, keepdims=True)", "np.exp(shifted).sum(axis=0, keepdims=True)",
           must_fail=("test_2_5_softmax_loss", "test_2_5_softmax_large_scores", "test_4_2_loss_known_values", "test_4_2_gradients",
                      "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause="sum over its classes (axis 1), not over the examples"),
    Mutant("softmax_loss_wrong_class", "the loss takes log_probs[:, y], every example's probability of every label",
           "2_layers.ipynb", "task_2_5_softmax_loss",
           "loss = -log_probs[np.arange(N), y].mean()", "loss = -log_probs[:, y].mean()",
           must_fail=("test_2_5_softmax_loss", "test_2_5_softmax_large_scores", "test_4_2_loss_known_values", "test_4_2_gradients"),
           cause="log_probs[:, y] takes every example's probability of every label"),
    Mutant("softmax_loss_not_averaged", "the softmax loss sums over the examples instead of averaging",
           "2_layers.ipynb", "task_2_5_softmax_loss",
           "loss = -log_probs[np.arange(N), y].mean()", "loss = -log_probs[np.arange(N), y].sum()",
           must_fail=("test_2_5_softmax_loss", "test_2_5_softmax_large_scores", "test_4_2_loss_known_values", "test_4_2_gradients"),
           cause="the loss is a mean: divide by N"),
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
    Mutant("affine_relu_backward_skips_relu", "the sandwich's backward sends dout straight into affine_backward",
           "4_two_layer_net.ipynb", "task_4_1_affine_relu",
           "affine_backward(relu_backward(dout, relu_cache), affine_cache)", "affine_backward(dout, affine_cache)",
           must_fail=("test_4_1_affine_relu", "test_4_2_gradients", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause="the gradient goes back through the ReLU first"),
    Mutant("relu_on_scores", "the last layer is an affine-ReLU sandwich too, so the scores are never negative",
           "4_two_layer_net.ipynb", "task_4_2_two_layer_net",
           _LAST_LAYER_AFFINE, _LAST_LAYER_AFFINE.replace("affine_", "affine_relu_"),
           must_fail=("test_4_2_loss_known_values", "test_4_2_gradients", "test_6_1_overfit",
                      "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause="with no ReLU after it: they may be negative"),
    Mutant("reg_on_biases_in_loss", "the loss's penalty includes the squared biases",
           "4_two_layer_net.ipynb", "task_4_2_two_layer_net",
           "(np.sum(W1 ** 2) + np.sum(W2 ** 2))", "(np.sum(W1 ** 2) + np.sum(W2 ** 2) + np.sum(b1 ** 2) + np.sum(b2 ** 2))",
           must_fail=("test_4_2_loss_known_values", "test_4_2_gradients"),
           cause="biases are not regularized"),
    Mutant("reg_on_biases_in_gradients", "the biases' gradients get a regularization term reg * b",
           "4_two_layer_net.ipynb", "task_4_2_two_layer_net",
           "        grads[\"W2\"] += self.reg * W2\n",
           "        grads[\"W2\"] += self.reg * W2\n        grads[\"b1\"] += self.reg * b1\n        grads[\"b2\"] += self.reg * b2\n",
           must_fail=("test_4_2_gradients",),
           cause="their gradients have no reg * b term"),
    Mutant("reg_gradient_doubled", "the regularization's gradient is taken as 2 * reg * W",
           "4_two_layer_net.ipynb", "task_4_2_two_layer_net",
           "        grads[\"W1\"] += self.reg * W1\n        grads[\"W2\"] += self.reg * W2\n",
           "        grads[\"W1\"] += 2 * self.reg * W1\n        grads[\"W2\"] += 2 * self.reg * W2\n",
           must_fail=("test_4_2_gradients",),
           cause="the regularization gradient is reg * W, not 2 * reg * W",
           # trained with twice the penalty's gradient, the saved model lands at 0.521 against a threshold of 0.52
           may_fail=("test_7_2_saved_model",)),
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
           must_fail=("test_5_2_end_of_epoch", "test_5_2_train", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause='multiply each learning rate by lr_decay'),
    Mutant("sgd_adds_gradient", "sgd steps along the gradient instead of against it",
           "5_solver.ipynb", "task_5_1_update_rules",
           "next_w = w - config[\"learning_rate\"] * dw", "next_w = w + config[\"learning_rate\"] * dw",
           must_fail=("test_5_1_sgd", "test_5_2_step"),
           cause="step against the gradient"),
    Mutant("minibatch_not_sampled", "every step fits the first batch_size examples instead of a random minibatch",
           "5_solver.ipynb", "task_5_2_solver",
           "batch = self.rng.choice(self.X_train.shape[0], self.batch_size)", "batch = np.arange(self.batch_size)",
           must_fail=("test_5_2_step", "test_5_2_train", "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause="draw a new random minibatch at every step"),
    Mutant("optimizer_config_shared", "every parameter is updated with one shared config, so the bias gets the weights' velocity",
           "5_solver.ipynb", "task_5_2_solver",
           "self.update_rule(w, grads[name], self.optim_configs[name])", "self.update_rule(w, grads[name], self.optim_config)",
           must_fail=("test_5_2_step", "test_6_1_overfit", "test_6_2_validation_accuracy", "test_7_2_saved_model"),
           cause="one config shared by all parameters"),
    Mutant("lr_decay_every_step", "the learning rate is decayed at every step instead of once per epoch",
           "5_solver.ipynb", "task_5_2_solver",
           _DECAY_IN_END_OF_EPOCH, _DECAY_IN_STEP,
           must_fail=("test_5_2_step", "test_5_2_end_of_epoch", "test_5_2_train", "test_6_2_validation_accuracy",
                      "test_7_2_saved_model"),
           cause="not at every step"),
    Mutant("best_val_acc_not_recorded", "the best val accuracy is never updated, so every epoch counts as the best",
           "5_solver.ipynb", "task_5_2_solver",
           "            self.best_val_acc = val_acc\n", "",
           must_fail=("test_5_2_end_of_epoch", "test_5_2_train"),
           cause="self.best_val_acc = val_acc"),
    Mutant("val_accuracy_on_training_set", "the val accuracy is measured on the training set",
           "5_solver.ipynb", "task_5_2_solver",
           "val_acc = self.check_accuracy(self.X_val, self.y_val,", "val_acc = self.check_accuracy(self.X_train, self.y_train,",
           must_fail=("test_5_2_end_of_epoch",),
           cause="not on the training set"),
    Mutant("best_params_not_copied", "the best parameters are kept by reference, not copied",
           "5_solver.ipynb", "task_5_2_solver",
           "self.best_params = {name: w.copy() for name, w in self.model.params.items()}\n        ### END",
           "self.best_params = self.model.params\n        ### END",
           must_fail=("test_5_2_end_of_epoch", "test_5_2_train"),
           cause='keep a copy of the parameters'),
    Mutant("grid_search_worst_first", "the grid search's results are sorted in ascending order, worst first",
           "7_hyperparameter_search.ipynb", "task_7_1_search",
           "    return sorted(results, key=lambda result: result[\"val_acc\"], reverse=True)\n    ### END SOLUTION\n\n\ndef random_search",
           "    return sorted(results, key=lambda result: result[\"val_acc\"])\n    ### END SOLUTION\n\n\ndef random_search",
           must_fail=("test_7_1_grid_search",),
           cause="sort by val_acc with reverse=True"),
    Mutant("random_search_reseeded_every_trial", "the random search creates its seeded generator inside the loop, so every trial draws the same values",
           "7_hyperparameter_search.ipynb", "task_7_1_search",
           "    rng = np.random.default_rng(seed)\n    results = []\n    for _ in range(num_trials):\n",
           "    results = []\n    for _ in range(num_trials):\n        rng = np.random.default_rng(seed)\n",
           must_fail=("test_7_1_random_search",),
           cause="create the generator once, before the loop"),
    Mutant("random_search_log_only_for_learning_rate", "only the learning rate is drawn log-uniformly; reg, though marked 'log', is drawn uniformly",
           "7_hyperparameter_search.ipynb", "task_7_1_search",
           "if scale == \"log\":", "if name == \"learning_rate\":",
           must_fail=("test_7_1_random_search",),
           cause="not only the learning rate"),
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
    return apply_mutant(mutant, dest)


def apply_mutant(mutant: Mutant, folder: Path) -> Path:
    """Apply the mutant's one edit to its notebook in `folder` (a copy of the reference notebooks)."""
    path = folder / mutant.notebook
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
    return folder
