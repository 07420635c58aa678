"""The single writer of the course's nbgrader gradebook.

Workers never touch the gradebook. For each finished submission the writer stages the
executed notebooks and runs nbgrader's own autograde on them without executing anything
(`--no-execute`), in this process, one submission at a time: nbgrader records the
submission, its grades and its autograded notebooks exactly as a normal autograde
would. Then the result file is saved; a run killed between two submissions loses nothing
that was finished.
"""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

from nn_helpers.cells import is_graded

from ..course import CONFIG_FILE, RELEASE_DIR
from .submission import Execution
from ..results import Failure, results_dir, save_result
from .reuse import save_outcomes


class GradebookWriter:
    """Records executed submissions in `course_root`'s gradebook, one at a time."""

    def __init__(self, course_root: Path, assignment: str):
        self.course_root = Path(course_root)
        self.assignment = assignment
        self.staging = results_dir(self.course_root, assignment) / "staged"
        config = PyFileConfigLoader(CONFIG_FILE, path=str(self.course_root)).load_config()
        config.CourseDirectory.root = str(self.course_root)
        config.CourseDirectory.submitted_directory = str(self.staging)
        config.Execute.enabled = False        # the worker already executed the notebooks
        config.ClearOutput.enabled = False    # keep the outputs the grades come from
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def write(self, execution: Execution, submission_dir: Path) -> None:
        """Record one submission in the gradebook, then keep its notebooks' outcomes (reuse.py) and save its result file.

        If nbgrader cannot record it, the result says so (status 'error') and the batch
        goes on; the gradebook is left as nbgrader's transaction left it.
        """
        result = execution.result
        staged = self.staging / result.student / self.assignment
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        for name, text in execution.notebooks.items():
            (staged / name).write_text(text, encoding="utf-8")
        for name, reason in self._not_executed(execution).items():
            nbformat.write(self._zero_notebook(name, reason), staged / name)
        for name in ("timestamp.txt", "submission_secret.txt"):   # lateness; nbgrader's release_feedback
            if (Path(submission_dir) / name).exists():
                shutil.copy2(Path(submission_dir) / name, staged / name)
        with warnings.catch_warnings():  # nbgrader's ORM warns about its own session handling
            warnings.simplefilter("ignore")
            outcome = self.api.autograde(self.assignment, result.student, force=True, create=True)
        shutil.rmtree(staged, ignore_errors=True)
        if not outcome["success"]:
            result.failures.append(Failure("error", "", "nbgrader could not record the grades in the gradebook: "
                                           + _last_line(outcome.get("error") or outcome.get("log") or ""),
                                           grader_fault=True))
        save_outcomes(self.course_root, self.assignment, result, execution.outcomes)   # before the result: it commits
        save_result(result, self.course_root)


    def _not_executed(self, execution: Execution) -> dict[str, str]:
        """Notebook -> why it has no executed copy (unreadable, missing, killed before it ran)."""
        reasons = {}
        for test in execution.result.tests:
            if test.notebook not in execution.notebooks:
                reasons.setdefault(test.notebook, test.message)
        return reasons

    def _zero_notebook(self, name: str, reason: str):
        """The release notebook with every test cell failed by `reason`, so nbgrader records zeros.

        (A test cell without output would count as passed, and a missing notebook would
        leave no row in the gradebook.)
        """
        notebook = nbformat.read(self.course_root / RELEASE_DIR / self.assignment / name, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code" and is_graded(cell):
                cell.outputs = [new_output("error", ename="NotRun", evalue=reason, traceback=[])]
        return notebook


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no details"
