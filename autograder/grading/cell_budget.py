"""A per-cell budget in CPU seconds for nbgrader's notebook runs, so that a busy machine changes no score.

nbgrader's `Execute.timeout` counts wall-clock seconds: on a machine shared with other
work, a cell that needs 30 s of CPU may take minutes and be stopped. `CpuBudgetExecute`
replaces nbgrader's `Execute` in the scratch course the grader runs (see `config_lines`):
while a cell runs, a thread reads the CPU time of the kernel's whole process tree; past
`cpu_seconds` the kernel is interrupted (KeyboardInterrupt), and killed if it does not
stop within GRACE_SECONDS of further CPU. The cell then ends with a CellTimeoutError that
says so, and the notebook goes on with the next cell. `Execute.timeout` becomes the
wall-clock backstop (WALL_FACTOR times the budget) for a cell that waits without
computing (sleep, input, a lock). After each notebook, the CPU seconds its cells used
together go to nbgrader's log (`notebook_cpu_seconds` reads them back), so that a regrade
that reuses a notebook's outcome can charge its time to the submission's budget.

This runs inside the sandbox, as part of the nbgrader process: it imports only nbgrader
and the sandbox's CPU meter.
"""
from __future__ import annotations

import os
import re
import signal
import threading

from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Float

from ..sandbox.limits import WALL_FACTOR   # the wall-clock backstop, in multiples of the CPU budget
from ..sandbox.meter import TreeMeter

GRACE_SECONDS = 5.0       # CPU seconds an interrupted kernel may still use before it is killed
POLL_SECONDS = 0.2
STOPPED = "CellTimeoutError"
DEFAULT_SECONDS = 240.0   # nbgrader_config.py sets Execute.timeout; this is for a course that does not
NOTEBOOK_CPU = "CPU budget: the cells of"   # the log line after each notebook: NOTEBOOK_CPU <name>.ipynb used <s> s
NOTEBOOK_CPU_LINE = re.compile(re.escape(NOTEBOOK_CPU) + r" (\S+\.ipynb) used ([0-9]+(?:\.[0-9]+)?) s")


def config_lines() -> str:
    """Lines to append to a scratch course's nbgrader_config.py: the course's own `Execute.timeout`
    (default DEFAULT_SECONDS) becomes each cell's CPU budget, and WALL_FACTOR times it the backstop."""
    return (
        "\n# Added by the grader (autograder/grading/cell_budget.py): Execute.timeout counts CPU seconds.\n"
        "from nbconvert.preprocessors import ClearMetadataPreprocessor\n"
        "from nbgrader.preprocessors import (IgnorePattern, LimitOutput, SaveAutoGrades,\n"
        "                                    AssignLatePenalties, CheckCellMetadata)\n"
        "from autograder.grading.cell_budget import CpuBudgetExecute\n"
        "c.Autograde.autograde_preprocessors = [CpuBudgetExecute, IgnorePattern, ClearMetadataPreprocessor,\n"
        "    LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]\n"
        f"c.CpuBudgetExecute.cpu_seconds = float(c.Execute.timeout if 'timeout' in c.Execute else {DEFAULT_SECONDS})\n"
        f"c.Execute.timeout = int(c.CpuBudgetExecute.cpu_seconds * {WALL_FACTOR})\n"
        "c.Execute.interrupt_on_timeout = True\n")


class CellWatch(threading.Thread):
    """Watches one cell: interrupts the kernel past `budget` CPU seconds, kills it GRACE_SECONDS later."""

    def __init__(self, kernel_pid: int, budget: float):
        super().__init__(daemon=True)
        self.kernel_pid, self.budget = kernel_pid, budget
        self.meter = TreeMeter(kernel_pid)
        self.start_cpu = self.meter.seconds()
        self.used = 0.0
        self.interrupted = self.killed = False
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            self.used = self.meter.seconds() - self.start_cpu
            if self.used > self.budget + GRACE_SECONDS and not self.killed:
                self._signal(signal.SIGKILL)
                self.killed = True
            elif self.used > self.budget and not self.interrupted:
                self._signal(signal.SIGINT)
                self.interrupted = True

    def _signal(self, signum: int) -> None:
        try:
            os.kill(self.kernel_pid, signum)
        except ProcessLookupError:
            pass

    def finish(self) -> None:
        self._done.set()
        self.join()
        self.used = max(self.used, self.meter.seconds() - self.start_cpu)   # the last poll may be 0.2 s old


class CpuBudgetExecute(Execute):
    """nbgrader's Execute with a budget in CPU seconds per cell (see the module's docstring)."""

    cpu_seconds = Float(DEFAULT_SECONDS, help="CPU seconds a cell may use (the kernel and what it starts)").tag(config=True)

    _watch: CellWatch | None = None
    notebook_seconds = 0.0   # CPU seconds the cells of the notebook being run have used so far

    def preprocess(self, nb: NotebookNode, resources: dict | None = None, km=None):
        self.notebook_seconds = 0.0
        result = super().preprocess(nb, resources, km)
        name = ((resources or {}).get("nbgrader") or {}).get("notebook") or "notebook"
        self.log.info("%s %s.ipynb used %.2f s", NOTEBOOK_CPU, name, self.notebook_seconds)
        return result

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        self._watch = CellWatch(pid, self.cpu_seconds) if pid and cell.cell_type == "code" else None
        if self._watch is not None:
            self._watch.start()
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            if self._watch is not None:
                self._watch.finish()
                self.notebook_seconds += self._watch.used
                if self._watch.killed:
                    self.log.error("CPU budget: the kernel was killed after a cell used %.0f s of CPU time",
                                   self._watch.used)

    def on_cell_executed(self, **kwargs) -> None:
        super().on_cell_executed(**kwargs)
        watch, cell = self._watch, kwargs["cell"]
        if watch is None or not watch.interrupted:
            return
        message = (f"the cell used more than {self.cpu_seconds:g} s of CPU time and was stopped "
                   "(the budget counts CPU time, so a busy machine does not use it up)")
        cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"] + [
            NotebookNode(output_type="error", ename=STOPPED, evalue=message, traceback=[f"{STOPPED}: {message}"])]


def notebook_cpu_seconds(log: str) -> dict[str, float]:
    """Notebook name -> CPU seconds its cells used, as nbgrader's log of a run reports them.

    The log is written in the sandbox, beside the student's code, which could write such lines
    too: the largest figure of a notebook counts (a forged line can raise a figure, never lower
    one that is there).
    """
    seconds: dict[str, float] = {}
    for name, figure in NOTEBOOK_CPU_LINE.findall(log):
        seconds[name] = max(seconds.get(name, 0.0), float(figure))
    return seconds
