"""Tests for autograder.grading.reasons: the true reason a cell or a test failed, named as the student sees it."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.grading.reasons import explain, not_run, notebook_run
from autograder.results import Failure
from autograder.trusted.tests import Verdict

TIMEOUT = [new_output("error", ename="KeyboardInterrupt", evalue="", traceback=[]),
           new_output("error", ename="CellTimeoutError", evalue="A cell timed out", traceback=[])]


def cell(grade_id, source="", outputs=(), kind="answer", tags=()):
    meta = {"nbgrader": {"grade_id": grade_id, "solution": kind == "answer", "grade": kind == "test",
                         "locked": kind != "answer", "points": 1, "schema_version": 3}} if grade_id else {}
    if tags:
        meta["tags"] = list(tags)
    result = new_code_cell(source, metadata=meta, outputs=list(outputs))
    result.execution_count = 1
    return result


def error(ename, evalue):
    return [new_output("error", ename=ename, evalue=evalue, traceback=[])]


def executed(*cells):
    return nbformat.writes(new_notebook(cells=[new_markdown_cell("# Part 1: Gates"), *cells]))


def task(number, *cells):
    return [new_markdown_cell(f"## Task 1.{number}: Something"), *cells]


def test_only_the_cell_that_ran_out_of_time_timed_out():
    """Is the first timed-out cell the one failure, and are the tests after it not run (those before it too,
    when the grader must run that cell to define the answers)?"""
    run = notebook_run(executed(*task(1, cell("a1"), cell("t1", kind="test")),
                                *task(2, cell("a2", outputs=TIMEOUT), cell("t2", kind="test", outputs=TIMEOUT))))
    assert [f.detail for f in run.failures("n.ipynb")] == [
        "Task 1.2 answer cell (`a2`) ran past the per-cell time limit and was stopped"]
    assert not run.ran_to_end
    verdicts = not_run(run, ["t1", "t2"])
    assert verdicts["t2"].message == "not run: an earlier cell (Task 1.2 answer cell (`a2`)) was stopped at the " \
                                     "per-cell time limit"
    assert verdicts["t1"].message.startswith("not run: a later cell (Task 1.2 answer cell (`a2`)) was stopped")


def test_a_timed_out_training_cell_leaves_the_tests_before_it_to_the_grader():
    """When a training cell (which the grader does not run) timed out, are only the tests after it not run?"""
    run = notebook_run(executed(*task(1, cell("a1"), cell("t1", kind="test"),
                                      cell("train", outputs=TIMEOUT, tags=("training",)), cell("t2", kind="test"))))
    assert set(not_run(run, ["t1", "t2"])) == {"t2"}


def test_a_syntax_error_is_a_failure_of_its_cell_and_the_root_cause_of_a_nameerror():
    """Is an answer cell's syntax error reported at its cell and line, and does a test's NameError of what it
    should define become that error?"""
    broken = error("IndentationError", "expected an indented block after function definition on line 1 (12.py, line 2)")
    run = notebook_run(executed(*task(1, cell("a1", "def square(x):\nreturn x", broken), cell("t1", kind="test"))))
    cause = ("Task 1.1 answer cell (`a1`) has an IndentationError at line 2: expected an indented block after "
             "function definition on line 1; fix it and rerun")
    assert [(f.kind, f.detail) for f in run.failures("n.ipynb")] == [("syntax error", cause)]
    verdict = explain({"t1": Verdict(False, "NameError: name 'square' is not defined", "NameError")}, run, [])["t1"]
    assert verdict.message == f"{cause} (the test then failed with NameError: name 'square' is not defined)"


def test_a_missing_saved_model_is_traced_to_the_cell_that_failed_first():
    """Does 'x.npz was not saved' name the earliest failing cell in the chain (a setup cell whose import failed,
    then the training cell, then the saving cell), with its exception?"""
    run = notebook_run(executed(
        cell("setup", "Solver = load_from_notebook('5_solver.ipynb', 'Solver')", kind="locked", outputs=error(
            "ImportError", "5_solver.ipynb, Task 5.2 answer cell (`task_5_2_solver`), failed while being loaded: "
                           "IndentationError: expected an indented block at line 12. Fix that cell and re-run it.")),
        *task(1, cell("train", "model = Net()\nsolver = Solver(model)", error("NameError", "name 'Solver' is not defined"),
                      tags=("training",)),
              cell("save", 'np.savez("model.npz", **model.params)', error("NameError", "name 'model' is not defined"),
                   kind="locked", tags=("training",)),
              cell("t1", kind="test"))))
    symptom = Verdict(False, "FileNotFoundError: model.npz was not saved: run the training cell", "FileNotFoundError")
    message = explain({"t1": symptom}, run, [])["t1"].message
    assert message.startswith("Part 1 cell (`setup`) raised ImportError: 5_solver.ipynb, Task 5.2 answer cell "
                              "(`task_5_2_solver`), failed while being loaded: IndentationError"), message


def test_an_unreadable_notebook_it_loads_from_is_the_reason():
    """Is a test whose notebook could not load another one told that the other one is unreadable?"""
    run = notebook_run(executed(
        cell("setup", "f = load_from_notebook('2_layers.ipynb', 'f')", kind="locked",
             outputs=error("FileNotFoundError", "/x/2_layers.ipynb not found next to this notebook")),
        *task(1, cell("t1", kind="test"))))
    unreadable = Failure("unreadable", "2_layers.ipynb", "is not a readable notebook (bad JSON)")
    verdict = Verdict(False, "CheckFailed: the saved model: best_model.npz is missing: run the cell above", "CheckFailed")
    assert explain({"t1": verdict}, run, [unreadable])["t1"].message.startswith(
        "2_layers.ipynb, which this notebook loads from in its Part 1 cell (`setup`), is not a readable notebook")


def test_without_a_cell_that_names_what_is_missing_the_nearest_failing_cell_is_the_reason():
    """When no failing cell names the missing file, is the nearest failing cell before the test blamed (the
    training cell just above, not an unrelated one further up)?"""
    run = notebook_run(executed(
        *task(1, cell("train1", outputs=error("NotImplementedError", "task 1"), tags=("training",))),
        *task(2, cell("train2", "solver.train()", error("NotImplementedError", "task 2"), tags=("training",)),
              cell("save", 'np.savez("net.npz", **net.params)', error("NameError", "name 'net' is not defined"),
                   kind="locked", tags=("training",)),
              cell("t2", kind="test"))))
    symptom = Verdict(False, "FileNotFoundError: net.npz was not saved", "FileNotFoundError")
    assert explain({"t2": symptom}, run, [])["t2"].message.startswith(
        "Task 1.2 answer cell (`train2`) raised NotImplementedError: task 2")


def test_a_real_failure_is_not_blamed_on_an_earlier_cell():
    """Does a test that failed for its own reason keep its message, even after a cell that raised?"""
    run = notebook_run(executed(*task(1, cell("a1", outputs=error("ValueError", "x"))), *task(2, cell("t2", kind="test"))))
    wrong = Verdict(False, "CheckFailed: f: got 1.0, expected 2.0", "CheckFailed")
    assert explain({"t2": wrong}, run, [])["t2"] == wrong
