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

from nn_helpers.cells import grade_id, is_answer, is_test

from ..results import Failure, Flag, TestResult

MESSAGE_LIMIT = 2000  # characters of a failure message kept in the results
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Traceback frame headers: a cell of the notebook itself, or another notebook's cell run by load_from_notebook.
CELL_FRAME = re.compile(r"^Cell In\[(\d+)\], line (\d+), in (\w+)")
IMPORTED_FRAME = re.compile(r"^File (\S+\.ipynb) \((.+)\):(\d+), in (\w+)")
ARROW = re.compile(r"^-+>\s*\d+\s+(.*)$")


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


def score_notebooks(source_dir: Path, executed: dict[str, str],
                    failures: list[Failure]) -> tuple[list[TestResult], list[Failure]]:
    """Score every test of the assignment from the executed notebooks (name -> JSON text).

    Returns the test results and the failures found in the outputs (memory, timeouts).
    """
    parsed = {name: nbformat.reads(text, as_version=4) for name, text in executed.items()}
    found = [f for name, nb in parsed.items() for f in _failures_in_outputs(name, nb)]
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
        results.append(TestResult(notebook, test_id, description, score, points, score >= points,
                                  "" if score >= points else _message(cell, answers[notebook])))
    return results, found


def apply_verdicts(notebook: str, text: str, verdicts: dict) -> tuple[str, list[Flag]]:
    """Write the trusted verdicts (grade_id -> trusted.Verdict) into an executed notebook's test cells.

    A passed test keeps only its printed output; a failed one gets the trusted failure as its
    error, which is what nbgrader then grades. A test whose visible part passed in the
    notebook but fails here is flagged: the notebook changed what its own tests saw.
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
        ename, _, evalue = verdict.message.partition(": ")
        cell.outputs = kept + [new_output("error", ename=ename, evalue=evalue, traceback=[verdict.message])]
        if float(score or 0) >= points and not verdict.hidden:
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
        own, imported = CELL_FRAME.match(lines[0]), IMPORTED_FRAME.match(lines[0])
        if own and int(own.group(1)) in answer_counts:
            code = next((m.group(1).strip() for m in map(ARROW.match, lines) if m), "")
            where = f"raised in {own.group(3)}, line {own.group(2)}" + (f": {code}" if code else "")
        elif imported:  # answer cells of an earlier notebook, run by load_from_notebook
            name, label, line, function = imported.groups()
            where = f"raised in {function} ({name}, {label}, line {line})"
    return where


def answers_timed_out(text: str) -> bool:
    """Did a cell other than a test cell run past the cell time limit in this executed notebook?"""
    for cell in nbformat.reads(text, as_version=4).cells:
        if cell.cell_type != "code" or is_test(cell):
            continue
        if any(o.get("output_type") == "error" and _timed_out(o) for o in cell.get("outputs", [])):
            return True
    return False


def _timed_out(output) -> bool:
    return output.ename in ("CellTimeoutError", "TimeoutError") or "timed out" in output.evalue.lower()


def _failures_in_outputs(notebook: str, nb) -> list[Failure]:
    """Memory exhaustion and timed-out cells, as the executed notebook records them."""
    failures = []
    for number, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            if output.ename == "MemoryError":
                failures.append(Failure("memory", notebook, f"ran out of memory in cell {number} (MemoryError)"))
            elif _timed_out(output):
                failures.append(Failure("timeout", notebook, f"cell {number} ran past the per-cell time limit"))
            elif output.ename == "WorkerGone":
                failures.append(Failure("sandbox", notebook, f"cell {number}: {output.evalue}"))
            elif denied := _sandbox_denial(output.ename, output.evalue):
                failures.append(Failure("sandbox", notebook, f"cell {number} {denied}"))
    return failures


def _sandbox_denial(ename: str, evalue: str) -> str:
    """What the grading sandbox refused, judged from an exception ('' when it was something else)."""
    if ename == "BlockingIOError" or "Resource temporarily unavailable" in evalue:
        return "tried to start more processes than grading allows"
    if "Network is unreachable" in evalue or "name resolution" in evalue or ename == "gaierror":
        return "tried to reach the network, which grading does not allow"
    if ename == "PermissionError" or "Read-only file system" in evalue:
        return "tried to read or write a file outside its own folder"
    return ""


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
