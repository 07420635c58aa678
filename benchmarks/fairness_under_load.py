"""Benchmark: the same class graded on an idle machine and on a busy one gets the same results.

    .venv/bin/python benchmarks/fairness_under_load.py [--loops-per-core 6] [--students a,b,...]

Grades the demo's class (autograder/demo.py) in a fresh course, then again in another
fresh course while busy loops run, each in a session of its own as other users' jobs
would (so that the scheduler's autogroups give each its share), outnumbering the cores
`--loops-per-core` to one. Prints each student's score and status in both runs, the wall
times and load averages, and every difference in the per-test results (points, passed,
message); exits 1 when there is any, when the reference is not at full marks, or when a
submission stopped by time or memory carries a review flag.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.course import ASSIGNMENT_ID, ROOT, copy_course, run_nbgrader  # noqa: E402
from autograder.demo import GRADING_ORDER, build_class, demo_limits  # noqa: E402
from autograder.grade import grade  # noqa: E402
from autograder.results import SubmissionResult  # noqa: E402

DEFAULT_STUDENTS = ("reference", "untouched_release", "bug_dw_not_transposed", "loops_forever", "exhausts_memory")


@contextlib.contextmanager
def busy_loops(count: int):
    """`count` processes spinning on the CPU, each in a session of its own; killed on exit."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
             for _ in range(count)]
    try:
        yield
    finally:
        for loop in loops:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(loop.pid, signal.SIGKILL)
            loop.wait()


def grade_class(folder: Path, students: set[str]) -> tuple[list[SubmissionResult], float, float]:
    """Results, wall seconds and the 1-minute load average at the end, for the class in a fresh course."""
    copy_course(folder, ROOT)
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], folder)
    build_class(folder)
    for student in (folder / "submitted").iterdir():
        if student.name not in students:
            subprocess.run(["rm", "-rf", str(student)], check=True)
    start = time.perf_counter()
    results = grade(folder, ASSIGNMENT_ID, demo_limits(), progress=False, first=GRADING_ORDER)
    return results, time.perf_counter() - start, os.getloadavg()[0]


def per_test(result: SubmissionResult) -> dict:
    return {t.grade_id: (t.points, t.passed, t.message) for t in result.tests}


def problems(idle: list[SubmissionResult], busy: list[SubmissionResult]) -> list[str]:
    found = []
    busy_by = {r.student: r for r in busy}
    for result in idle:
        other = busy_by.get(result.student)
        if other is None:
            found.append(f"{result.student}: not graded under load")
            continue
        a, b = per_test(result), per_test(other)
        found += [f"{result.student}: {test}: idle {a[test]} / busy {b.get(test)}" for test in a if a[test] != b.get(test)]
        if result.status != other.status:
            found.append(f"{result.student}: status idle {result.status} / busy {other.status}")
    for result in idle + busy:
        if result.student == "reference" and result.score != result.max_score:
            found.append(f"reference: {result.score:g}/{result.max_score:g}, not full marks")
        if result.status in ("timeout", "memory") and result.flags:
            found.append(f"{result.student}: stopped by a limit yet flagged: {result.flagged}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops-per-core", type=int, default=6)
    parser.add_argument("--students", default=",".join(DEFAULT_STUDENTS),
                        help="comma-separated demo students (default: %(default)s); 'all' for the whole class")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fairness-") as scratch:
        students = set(args.students.split(","))
        if args.students == "all":
            students = {p.name for p in build_class_students(Path(scratch) / "probe")}
        idle, idle_wall, idle_load = grade_class(Path(scratch) / "idle", students)
        loops = args.loops_per_core * (os.cpu_count() or 1)
        with busy_loops(loops):
            busy, busy_wall, busy_load = grade_class(Path(scratch) / "busy", students)
    print(f"machine: {os.cpu_count()} cores; busy run beside {loops} busy loops, each in its own session")
    print(f"idle: {idle_wall:.0f} s wall, load average {idle_load:.1f}; busy: {busy_wall:.0f} s wall, "
          f"load average {busy_load:.1f}; wall ratio busy/idle {busy_wall / idle_wall:.2f}")
    busy_by = {r.student: r for r in busy}
    for result in idle:
        other = busy_by.get(result.student)
        busy_text = f"{other.score:g}/{other.max_score:g} {other.status}" if other else "not graded"
        print(f"  {result.student:<24} idle {result.score:g}/{result.max_score:g} {result.status:<8} busy {busy_text}")
    found = problems(idle, busy)
    print("differences: " + ("none" if not found else "\n  " + "\n  ".join(found)))
    return 1 if found else 0


def build_class_students(folder: Path) -> list[Path]:
    copy_course(folder, ROOT)
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], folder)
    build_class(folder)
    return sorted((folder / "submitted").iterdir())


if __name__ == "__main__":
    sys.exit(main())
