"""Run `nbgrader autograde` for one student of a scratch course, in the sandbox, and read what its log reveals.

Every notebook at once (one nbgrader run over `*`), or only some: the notebooks whose
outcome is reused are not run, but they stay where nbgrader executes the others, as the
notebooks those load from. nbgrader executes each notebook in the autograded folder, so a
notebook's `load_from_notebook` reads its neighbours there; with `--force` and a notebook id
other than `*`, nbgrader replaces only the notebooks it runs in that folder, so the
neighbours are put there first (`place_neighbours`). One sandbox runs every nbgrader run of a
submission, so its CPU budget covers them together.
"""
from __future__ import annotations

import fnmatch
import glob
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from ..course import ROOT
from ..results import Failure
from ..sandbox import SandboxLimits, SandboxRun, run
from .cell_budget import notebook_cpu_seconds

if TYPE_CHECKING:
    from .submission import GradeTask, Limits

GLOB_SPECIAL = set("[]!^-*?\\")


def autograde(course: Path, task: GradeTask, notebooks: list[str] | None = None,
              cpu_seconds: float | None = None) -> tuple[list[Failure], dict[str, float]]:
    """Run nbgrader autograde for the one student in `course` (sandboxed unless --no-sandbox), within its limits.

    `notebooks`: only these (by default every notebook); `cpu_seconds`: the CPU budget of the run (by
    default the submission's). Returns what stopped it, if anything, and the CPU seconds each
    notebook's cells used, as the log reports them. The sandbox sees the scratch course and the
    dataset, never the course being graded.
    """
    base = [sys.executable, "-m", "nbgrader", "autograde", task.assignment, "--student", task.student,
            "--force", "--create"]
    ids = ["*"] if notebooks is None else notebook_ids(notebooks, sorted(p.name for p in course.glob(
        f"submitted/{glob.escape(task.student)}/{glob.escape(task.assignment)}/*.ipynb")))
    runs = [base + ([] if ids == ["*"] else ["--notebook", notebook_id]) for notebook_id in ids]
    command = runs[0] if len(runs) == 1 else ["/bin/sh", "-c", " && ".join(shlex.join(r) for r in runs)]
    limits = sandbox_limits(task.limits, cpu_seconds)
    ran = run(command, course, limits, isolate=task.limits.sandbox, visible=[Path(task.cifar10_dir)],
              env=environment(task))
    return failures_of_run(ran), notebook_cpu_seconds(ran.output)


def notebook_ids(notebooks: list[str], submitted: list[str]) -> list[str]:
    """nbgrader notebook ids (globs over names without .ipynb) that run exactly `notebooks`, in name order.

    One glob when one on their first characters matches no other notebook of `submitted`
    (it saves starting nbgrader again, seconds each), else one id per notebook.
    """
    stems = [Path(name).stem for name in sorted(notebooks)]
    firsts = {stem[0] for stem in stems if stem}
    if len(stems) > 1 and len(firsts) == len(stems) and not firsts & GLOB_SPECIAL:
        pattern = f"[{''.join(sorted(firsts))}]*"
        matched = {Path(name).stem for name in submitted if fnmatch.fnmatchcase(Path(name).stem, pattern)}
        if matched == set(stems):
            return [pattern]
    return [glob.escape(stem) for stem in stems]


def place_neighbours(course: Path, task: GradeTask, names: list[str]) -> None:
    """Copy the notebooks `names` from the submission into the autograded folder, without outputs: the
    notebooks that run load from them there, as they would from the executed copies in a full run."""
    submitted = course / "submitted" / task.student / task.assignment
    autograded = course / "autograded" / task.student / task.assignment
    autograded.mkdir(parents=True, exist_ok=True)
    for name in names:
        notebook = nbformat.read(submitted / name, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, autograded / name)


def failures_of_run(ran: SandboxRun) -> list[Failure]:
    """What stopped nbgrader, if anything did, and what its log reveals."""
    if ran.kind in ("cpu", "wall"):
        return [Failure("timeout", "", f"the submission {ran.stopped} (the budget covers every notebook)")]
    if ran.kind == "memory":
        return _unique([Failure("memory", "", f"the submission {ran.stopped}"),
                        *failures_in_log(ran.output, ran.returncode or 0)])
    if ran.kind is not None:  # a signal from inside: the submission killed its own grading run
        return [Failure("error", "", f"nbgrader {ran.stopped}, by the submission itself or something it started")]
    return failures_in_log(ran.output, ran.returncode)


def environment(task: GradeTask) -> dict[str, str]:
    """Only what a run of the student's code needs: nothing of the grader's own environment.

    PYTHONPATH names the kit, so that the notebooks import the kit's nn_helpers, which
    the sandbox shows, wherever the environment's own install of it points.
    """
    threads = str(task.limits.blas_threads)
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT), "CIFAR10_DIR": task.cifar10_dir, "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}


def sandbox_limits(limits: Limits, cpu_seconds: float | None = None) -> SandboxLimits:
    return SandboxLimits(cpu_seconds=limits.cpu_seconds if cpu_seconds is None else cpu_seconds,
                         memory_bytes=limits.memory_bytes, max_processes=limits.max_processes)


def failures_in_log(log: str, returncode: int) -> list[Failure]:
    """Failures only nbgrader's own log reveals: a dead kernel, or nbgrader itself failing."""
    failures, current = [], ""
    for line in log.splitlines():
        if "Converting notebook" in line:  # nbgrader announces each notebook before running it
            current = _notebook_in(line) or current
        if "DeadKernelError" in line or "Kernel died" in line:
            failures.append(Failure("kernel died", _notebook_in(line) or current,
                                    "the kernel died while running the notebook (crashed, or killed for "
                                    "using too much memory); nbgrader then keeps none of the submission's notebooks"))
    if returncode != 0 and not failures:
        tail = " | ".join(line.strip() for line in log.strip().splitlines()[-3:])
        failures.append(Failure("error", "", f"nbgrader autograde failed (exit code {returncode}): {tail[:300]}"))
    return _unique(failures)


def _notebook_in(line: str) -> str:
    words = [w.strip("'\",:") for w in line.split() if w.strip("'\",:").endswith(".ipynb")]
    return Path(words[0]).name if words else ""


def _unique(failures: list[Failure]) -> list[Failure]:
    seen, unique = set(), []
    for failure in failures:
        key = (failure.kind, failure.notebook)
        if key not in seen:
            seen.add(key)
            unique.append(failure)
    return unique
