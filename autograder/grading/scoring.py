"""Score executed notebooks test cell by test cell, against the reference notebooks' list of tests.

The list of tests, their points and descriptions come from the source notebooks (trusted),
so a test cell missing from a submission still gets a row (with zero points) and the
failure messages never include a test's source, only the exception it raised.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.utils import determine_grade

from nn_helpers.cells import LOADED_FRAME, grade_id, is_answer, is_test, raised_in

from ..messages import student_text
from ..results import Failure, Flag, TestResult
from .reasons import notebook_run, sandbox_denial

MESSAGE_LIMIT = 2000  # characters of a failure message kept in the results
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Traceback frame headers: a cell of the notebook itself, or another notebook's cell run by load_from_notebook.
CELL_FRAME = re.compile(r"^Cell In\[(\d+)\], line (\d+), in (\w+)")
ARROW = re.compile(r"^-+>\s*\d+\s+(.*)$")
GRADER_TIMEOUT = re.compile(r"^TimeoutError: the (student's code ran past|notebook's answer cells did not finish)")


def autograded_tests(source_dir: Path) -> list[tuple[str, str, float, str]]:
    """(notebook, grade_id, points, description) of every autograded test cell, in notebook order."""
    cells = []
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and is_test(cell):
                points = float(cell.metadata["nbgrader"]["points"])
                cells.append((path.name, grade_id(cell), points, describe(cell.source)))
    return cells


def describe(source: str) -> str:
    """The claim a test cell checks: the docstring on its first line, if any."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return ""
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0].value.value.strip()
    return ""


def score_notebooks(source_dir: Path, executed: dict[str, str], failures: list[Failure],
                    verdicts: dict | None = None, runs: dict | None = None) -> tuple[list[TestResult], list[Failure]]:
    """Score every test of the assignment from the executed notebooks (name -> JSON text).

    `verdicts` ((notebook, grade_id) -> trusted Verdict) give a failed test its full message
    (the notebook holds what the student may read of it) and say whether it failed in the
    hidden part; `runs` (notebook -> reasons.NotebookRun) say what the notebooks' own runs
    did, as read before the verdicts replaced the test cells' outputs (by default, read now).
    Returns the test results and the failures found in the runs and verdicts (limits, syntax errors).
    """
    verdicts = verdicts or {}
    parsed = {name: nbformat.reads(text, as_version=4) for name, text in executed.items()}
    runs = {name: (runs or {}).get(name) or notebook_run(text) for name, text in executed.items()}
    found = [f for name, run in runs.items() for f in run.failures(name) + _grader_failures(name, verdicts, run)]
    by_cell = {(name, grade_id(cell)): cell for name, nb in parsed.items() for cell in nb.cells
               if cell.cell_type == "code" and grade_id(cell)}
    answers = {name: {cell.execution_count for cell in nb.cells if is_answer(cell) and cell.cell_type == "code"}
               for name, nb in parsed.items()}
    results = []
    for notebook, test_id, points, description in autograded_tests(source_dir):
        cell = by_cell.get((notebook, test_id))
        if cell is None:
            reason = _why_not_run(notebook, failures + found, notebook in parsed)
            results.append(TestResult(notebook, test_id, description, 0.0, points, False, f"not run: {reason}"))
            continue
        if cell.execution_count is None:  # nbgrader would give an output-less test cell full marks
            results.append(TestResult(notebook, test_id, description, 0.0, points, False,
                                      "not run: the test cell was not executed"))
            continue
        score, _ = determine_grade(cell)
        score = float(score or 0.0)
        verdict = verdicts.get((notebook, test_id))
        message = "" if score >= points else verdict.message[:MESSAGE_LIMIT] if verdict and not verdict.passed \
            else _message(cell, answers[notebook])
        results.append(TestResult(notebook, test_id, description, score, points, score >= points, message,
                                  bool(message and verdict and verdict.hidden)))
    return results, found


def _grader_failures(notebook: str, verdicts: dict, run) -> list[Failure]:
    """Limits the student's code met when the grader ran a test (in plain words the student may read)."""
    stopped_here = {p.label for p in run.problems}
    found = []
    for (name, test), verdict in verdicts.items():
        if name != notebook or verdict.passed or verdict.kind in ("NotRun", "RootCause"):   # said where it started
            continue
        label = run.labels[run.positions[test]] if test in run.positions else f"the test cell `{test}`"
        if label in stopped_here:
            continue
        if verdict.kind == "TimeoutError" and GRADER_TIMEOUT.match(verdict.message):
            found.append(Failure("timeout", notebook, f"{label}: the grader stopped the student's code at the "
                                                      "time limit of a test"))
        elif verdict.kind == "MemoryError":
            found.append(Failure("memory", notebook, f"{label}: the student's code ran out of memory (MemoryError) "
                                                     "when the grader ran the test"))
        elif verdict.kind == "WorkerGone":
            found.append(Failure("sandbox", notebook, f"{label}: the student's code ended or broke the process "
                                                      "the grader ran it in"))
        elif denied := sandbox_denial(verdict.kind, verdict.message):
            found.append(Failure("sandbox", notebook, f"{label}: the student's code {denied}"))
    return found


def apply_verdicts(notebook: str, text: str, verdicts: dict, ran_to_end: bool = True) -> tuple[str, list[Flag]]:
    """Write the trusted verdicts (grade_id -> trusted.Verdict) into an executed notebook's test cells.

    A passed test keeps only its printed output; a failed one gets the trusted failure as its
    error, as the student may read it (a hidden test's details are not written), which is what
    nbgrader then grades. When the notebook ran to its end (`ran_to_end`: no limit stopped a
    cell), a test whose visible part passed in the notebook but fails here is flagged: the
    notebook changed what its own tests saw.
    """
    parsed = nbformat.reads(text, as_version=4)
    flags = []
    for cell in parsed.cells:
        verdict = verdicts.get(grade_id(cell))
        if verdict is None or cell.cell_type != "code" or not is_test(cell) or cell.execution_count is None:
            continue
        score, points = determine_grade(cell)
        kept = [o for o in cell.outputs if o.output_type == "display_data"
                or (o.output_type == "stream" and o.name == "stdout")]
        if verdict.passed:
            cell.outputs = kept
            continue
        text = student_text(verdict.message, verdict.hidden)
        kind = verdict.kind or "Failed"
        evalue = text[len(kind) + 2:] if text.startswith(f"{kind}: ") else text
        cell.outputs = kept + [new_output("error", ename=kind, evalue=evalue, traceback=[text])]
        if ran_to_end and float(score or 0) >= points and not verdict.hidden:
            flags.append(Flag(notebook, grade_id(cell),
                                   "passed in the notebook but failed when the grader ran the test on the notebook's "
                                   "answers: something in the notebook changed what its tests saw; the grader's "
                                   "result counts"))
    return nbformat.writes(parsed), flags


def _message(cell, answer_counts: set) -> str:
    """The exception a test cell raised (type and message), or its stderr; never the test's code.

    When the exception came from the student's own code, the message also says where.
    """
    for output in cell.outputs:
        if output.output_type == "error":
            where = _raised_in_answer(output.get("traceback", []), answer_counts)
            return f"{output.ename}: {output.evalue}{f' [{where}]' if where else ''}"[:MESSAGE_LIMIT]
    for output in cell.outputs:
        if output.output_type == "stream" and output.name == "stderr":
            return f"wrote to stderr: {output.text.strip()}"[:MESSAGE_LIMIT]
    return "the cell produced no error but not full marks"


def _raised_in_answer(traceback: list[str], answer_counts: set) -> str:
    """The deepest traceback frame in an answer cell, e.g. 'raised in affine_backward, line 18: dw = x @ dout'.

    Frames of other cells (test cells, which may hold hidden tests) are never quoted.
    """
    where = ""
    for frame in traceback:
        lines = ANSI.sub("", frame).splitlines() or [""]
        own, imported = CELL_FRAME.match(lines[0]), LOADED_FRAME.match(lines[0])
        if own and int(own.group(1)) in answer_counts:
            code = next((m.group(1).strip() for m in map(ARROW.match, lines) if m), "")
            where = raised_in(own.group(3), own.group(2), code)
        elif imported:  # answer cells of an earlier notebook, run by load_from_notebook
            name, label, line, function = imported.groups()
            where = raised_in(function, line, notebook=name, label=label)
    return where


def _why_not_run(notebook: str, failures: list[Failure], executed: bool) -> str:
    for failure in failures:
        if failure.notebook == notebook:
            return failure.detail
    if executed:
        return "the test cell is missing from the submitted notebook"
    for failure in failures:
        if not failure.notebook:
            return failure.detail
    return "the notebook was not executed"
