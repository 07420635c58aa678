"""Per-cell CPU budgets (autograder/grading/cell_budget.py): a busy machine slows a cell but never stops it."""
import logging
import os
import signal
import subprocess
import sys
import time

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config.loader import PyFileConfigLoader

from autograder.grading.cell_budget import NOTEBOOK_CPU, STOPPED, WALL_FACTOR, CpuBudgetExecute, config_lines, \
    notebook_cpu_seconds

# About 1.5 s of CPU on this kind of machine: a fixed amount of work, whatever the load.
WORK = "total = 0\nfor i in range(12_000_000):\n    total += i % 7\nprint(total)"


@pytest.fixture
def busy_machine():
    """Six busy loops, each in a session of its own (as other users' jobs would be): 3x the cores here."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
             for _ in range(3 * (os.cpu_count() or 1))]
    yield
    for loop in loops:
        os.killpg(loop.pid, signal.SIGKILL)
        loop.wait()


def run_cells(tmp_path, sources, cpu_seconds, wall_seconds, executor=None):
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    executor = executor or CpuBudgetExecute(cpu_seconds=cpu_seconds, timeout=wall_seconds, interrupt_on_timeout=True,
                                            allow_errors=True)
    start = time.monotonic()
    executed, _ = executor.preprocess(notebook, {"metadata": {"path": str(tmp_path)}, "nbgrader": {"notebook": "work"}})
    return executed.cells, time.monotonic() - start


def errors(cell):
    return [(o.ename, o.evalue) for o in cell.outputs if o.output_type == "error"]


@pytest.mark.slow
def test_a_looping_cell_is_stopped_at_its_cpu_budget_and_the_next_cell_runs(tmp_path):
    """Is an endless loop stopped for CPU time (named so), long before the wall backstop, and the notebook goes on?"""
    cells, seconds = run_cells(tmp_path, ["x = 1", "while True:\n    pass", "print(x + 1)"], 2.0, 120)
    assert errors(cells[1]) and errors(cells[1])[0][0] == STOPPED and "2 s of CPU time" in errors(cells[1])[0][1]
    assert errors(cells[0]) == errors(cells[2]) == [] and cells[2].outputs[0].text == "2\n"
    assert seconds < 60


@pytest.mark.slow
def test_a_busy_machine_slows_a_cell_but_does_not_stop_it(tmp_path, busy_machine):
    """With busy loops outnumbering the cores 3:1, does a cell well within its CPU budget still finish,
    and is a looping cell still stopped for CPU, not wall time?"""
    cells, seconds = run_cells(tmp_path, [WORK, "while True:\n    pass"], 6.0, 6.0 * WALL_FACTOR)
    assert errors(cells[0]) == [], errors(cells[0])
    assert errors(cells[1])[0][0] == STOPPED and "CPU time" in errors(cells[1])[0][1]


def test_the_courses_cell_timeout_becomes_the_cpu_budget(tmp_path):
    """Does the scratch config turn the course's Execute.timeout into CPU seconds, with a wall backstop?"""
    config = tmp_path / "nbgrader_config.py"
    config.write_text("c = get_config()\nc.Execute.timeout = 90\n" + config_lines())
    loaded = PyFileConfigLoader(config.name, path=str(tmp_path)).load_config()
    assert loaded.CpuBudgetExecute.cpu_seconds == 90.0 and loaded.Execute.timeout == 90 * WALL_FACTOR
    assert loaded.Autograde.autograde_preprocessors[0] is CpuBudgetExecute


@pytest.mark.slow
def test_the_cpu_time_of_a_notebooks_cells_goes_to_the_log(tmp_path):
    """After a notebook, does the log say how many CPU seconds its cells used together, as the grader reads it back?"""
    records = []
    log = logging.getLogger("test_cell_budget")
    log.setLevel(logging.INFO)
    log.addHandler(type("Kept", (logging.Handler,), {"emit": lambda self, record: records.append(record)})())
    executor = CpuBudgetExecute(cpu_seconds=30, timeout=300, interrupt_on_timeout=True, allow_errors=True, log=log)
    run_cells(tmp_path, ["x = 1", WORK], 30, 300, executor)
    lines = [r.getMessage() for r in records if NOTEBOOK_CPU in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith(f"{NOTEBOOK_CPU} work.ipynb used "), lines
    seconds = notebook_cpu_seconds(lines[0])["work.ipynb"]
    assert seconds == round(executor.notebook_seconds, 2) and 0.3 < seconds < 30


def test_the_largest_cpu_figure_of_a_notebook_counts():
    """Is each notebook's CPU time read from the log, the largest figure winning (a line the notebook printed
    itself cannot lower the one nbgrader logged), and a malformed figure ignored?"""
    log = (f"[AutogradeApp | INFO] {NOTEBOOK_CPU} 1_a.ipynb used 12.50 s\n"
           f"{NOTEBOOK_CPU} 1_a.ipynb used 0.01 s\n"
           f"[AutogradeApp | INFO] {NOTEBOOK_CPU} 2_b.ipynb used 3.00 s\n"
           f"{NOTEBOOK_CPU} 3_c.ipynb used 1.2.3 s\n")
    assert notebook_cpu_seconds(log) == {"1_a.ipynb": 12.5, "2_b.ipynb": 3.0}
