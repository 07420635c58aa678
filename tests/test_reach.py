"""Tests for autograder.quality.reach: which notebooks an edit to one answer cell can change."""
import ast

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from autograder.course import source_notebooks
from autograder.quality.reach import changed_names, defined_names, needed_by, notebook_loads, reached_by

LAYERS, NET, SOLVER = "2_layers.ipynb", "4_two_layer_net.ipynb", "5_solver.ipynb"
TRAINING = {"6_training_cifar10.ipynb", "7_hyperparameter_search.ipynb"}


def cell(code, cell_id):
    return new_code_cell(code, metadata={"nbgrader": {"solution": True, "grade_id": cell_id, "grade": False}})


def test_the_names_a_cell_defines_are_its_top_level_bindings():
    """Are functions, classes, assignments (tuples too) and imports counted, and names inside functions not?"""
    tree = ast.parse("import numpy as np\nfrom os import path\ndef f():\n    inner = 1\nclass C: pass\n"
                     "a, (b, c) = 1, (2, 3)\nd: int = 4\n")
    assert defined_names(tree) == {"np", "path", "f", "C", "a", "b", "c", "d"}


def test_an_edit_changes_the_names_that_use_it_transitively():
    """Does an edit to f change g (which calls f) and h (which calls g), and leave k alone?"""
    cells = [cell("def f(x):\n    return x", "a"), cell("def g(x):\n    return f(x)\n\ndef k(x):\n    return x", "b"),
             cell("RULES = {'g': g}\ndef h(x):\n    return RULES['g'](x)", "c")]
    assert changed_names(cells, {"f"}) == {"f", "g", "RULES", "h"}


def test_a_name_looked_up_at_run_time_changes_everything():
    """Does a definition that calls globals() make any edit change every name of its notebook?"""
    cells = [cell("def f(x):\n    return x", "a"), cell("def k(x):\n    return x", "b"),
             cell("def h(name):\n    return globals()[name]", "c")]
    assert changed_names(cells, {"f"}) == {"f", "k", "h"}


def test_the_loads_of_the_reference_name_their_notebooks_and_names():
    """Does notebook 4 load the layers by name from notebook 2, and notebooks 6 and 7 the net and the Solver?"""
    loads = notebook_loads(source_notebooks())
    assert loads[NET][LAYERS] >= {"affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss"}
    assert all(loads[notebook] == {NET: {"TwoLayerNet"}, SOLVER: {"Solver"}} for notebook in TRAINING)
    assert needed_by({"6_training_cifar10.ipynb"}, loads) == {LAYERS, NET, SOLVER, "6_training_cifar10.ipynb"}


def test_an_edit_reaches_the_notebooks_that_load_what_it_changed():
    """Does the affine layer reach the net and training, an activation only the notebooks loading it, part 1 itself?"""
    source = source_notebooks()
    assert reached_by(source, "1_computational_graphs.ipynb", "task_1_1_gates") == {"1_computational_graphs.ipynb"}
    assert reached_by(source, LAYERS, "task_2_1_affine_forward") == {LAYERS, "3_vanishing_gradients.ipynb", NET} | TRAINING
    assert reached_by(source, LAYERS, "task_2_5_softmax_loss") == {LAYERS, NET} | TRAINING
    assert reached_by(source, LAYERS, "task_2_4_activations") == {LAYERS, "3_vanishing_gradients.ipynb"}
    # The Solver looks its update rules up in UPDATE_RULES: an edit to them reaches the training.
    assert reached_by(source, SOLVER, "task_5_1_update_rules") == {SOLVER} | TRAINING


def test_an_unknown_cell_is_an_error(tmp_path):
    """Is a grade_id that no defining cell has refused, rather than reaching nothing?"""
    nbformat.write(new_notebook(cells=[cell("x = 1", "a")]), tmp_path / "n.ipynb")
    try:
        reached_by(tmp_path, "n.ipynb", "nope")
    except KeyError as error:
        assert "nope" in str(error)
    else:
        raise AssertionError("an unknown cell reached something")


def test_a_notebook_edited_after_it_was_read_is_read_again(tmp_path):
    """Is what a notebook loads read anew once the file changes (reading is cached while it does not)?"""
    def write(loaded):
        cells = [new_code_cell(f'f = load_from_notebook("a.ipynb", "{loaded}")')]
        nbformat.write(new_notebook(cells=cells), tmp_path / "b.ipynb")
    write("g")
    assert notebook_loads(tmp_path) == {"b.ipynb": {"a.ipynb": {"g"}}}
    write("h_longer")
    assert notebook_loads(tmp_path) == {"b.ipynb": {"a.ipynb": {"h_longer"}}}
