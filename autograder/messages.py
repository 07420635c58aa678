"""The words grading uses for what went wrong, in one place.

`student_text`: a test's failure as the student may read it (a hidden test's details stay with
the instructor). `cell_error`: what went wrong in a cell, with the cell named as the student
sees it (nn_helpers.cells.cell_label) and a syntax error's line.
"""
from __future__ import annotations

import re

# Why a hidden test's failure is told without its details.
HIDDEN_FAILED = "a hidden test (other shapes and seeds) failed"
KEPT = "the details are kept for your instructor"
# What a failure's kind alone says, when its message may not be shown.
KIND_MEANS = {"TimeoutError": "the code ran past the time limit of a test", "MemoryError": "the code ran out of memory",
              "WorkerGone": "the code ended the process that ran it"}
# The "[raised in ...]" grading appends to an exception of the student's code (trusted/worker.py, scoring.py).
WHERE = re.compile(r" \[raised in ([A-Za-z_]\w{0,60})(?:, line (\d{1,4})(?:: .*)?"
                   r"| \(([\w-]{1,60}\.ipynb), .*, line (\d{1,4})\))\]$")


def student_text(message: str, hidden: bool) -> str:
    """The failure `message` as the student may read it: whole for a visible test; for a hidden one,
    only the failure's kind, the check's name, its likely causes and the function and line that raised.

    A hidden test's inputs and expected values stay with the instructor, and so does any message
    that could quote them: a check's "got ..., expected ...", an exception of the student's own code.
    e.g. "CheckFailed: a hidden test (other shapes and seeds) failed: check 'dW (W of shape (4, 3))'
    failed; the details are kept for your instructor"
    """
    if not hidden or not message:
        return message
    kind, _, rest = message.partition(": ")
    kind = kind if kind.isidentifier() else "Error"
    if kind == "CheckFailed" and " [raised in " not in rest:   # a check of the test's, not the student's code
        what = f"check '{rest.split(': ', 1)[0].splitlines()[0][:120]}' failed"
    else:
        what = f"{kind} was raised" + (f" ({KIND_MEANS[kind]})" if kind in KIND_MEANS else "")
    where = WHERE.search(message)
    if where:
        function, line, notebook, imported_line = where.groups()
        what += f" in {function}" + (f", line {line}" if line else f" ({notebook}, line {imported_line})")
    causes = "".join(f"\n  {line.strip()}" for line in rest.splitlines() if line.strip().startswith("Likely cause:"))
    return f"{kind}: {HIDDEN_FAILED}: {what}; {KEPT}{causes}"


SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")
# A syntax error's message ends with the file and line: "expected an indented block (3071.py, line 3)".
SYNTAX_WHERE = re.compile(r"^(.*) \((?:[^()]|\([^()]*\))*, line (\d+)\)$", re.S)


def cell_error(label: str, ename: str, message: str) -> str:
    """What an error in a cell means for the student, e.g. "Task 5.2 answer cell (`task_5_2_solver`) has
    an IndentationError at line 12: expected an indented block; fix it and rerun", or
    "Task 6.1 answer cell (`task_6_1_overfit`) raised ValueError: ..."."""
    if ename in SYNTAX_ERRORS:
        match = SYNTAX_WHERE.match(message.strip())
        text, line = (match.group(1), f" at line {match.group(2)}") if match else (message, "")
        article = "an" if ename[0] in "AEIOU" else "a"
        return f"{label} has {article} {ename}{line}: {text}; fix it and rerun"
    return f"{label} raised {ename}: {message}"
