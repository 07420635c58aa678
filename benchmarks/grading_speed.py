"""Benchmark: grade the same submissions with plain serial `nbgrader autograde` and with `grade`.

    .venv/bin/python benchmarks/grading_speed.py [--submissions 20] [--workers N]

Both runs use two copies of one course with identical submissions, on this machine, in
one process run, one after the other. The class cycles through the reference, the
untouched release and every seeded-bug submission of the mutant catalogue, so most
submissions run the whole assignment, training included. Prints both wall times, the
median seconds per submission of each, and their ratio.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.course import ASSIGNMENT_ID, ROOT, copy_course, release_notebooks, run_nbgrader, source_notebooks  # noqa: E402
from autograder.grading.submission import Limits  # noqa: E402
from autograder.grade import grade  # noqa: E402
from autograder.quality.mutants import CATALOGUE, write_mutant, write_reference  # noqa: E402


def build_course(folder: Path, count: int) -> list[str]:
    """A course with `count` submissions; returns the student ids in order."""
    copy_course(folder, ROOT)
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], folder)
    kinds = ["reference", "release"] + [m.name for m in CATALOGUE]
    students = []
    reference = write_reference(source_notebooks(folder), release_notebooks(folder), folder / "reference")
    for i in range(count):
        kind = kinds[i % len(kinds)]
        student = f"s{i:02d}_{kind}"
        target = folder / "submitted" / student / ASSIGNMENT_ID
        if kind == "reference":
            shutil.copytree(reference, target)
        elif kind == "release":
            shutil.copytree(release_notebooks(folder), target)
        else:
            write_mutant(next(m for m in CATALOGUE if m.name == kind), reference, target)
        students.append(student)
    return students


def serial_nbgrader(course: Path, students: list[str]) -> list[float]:
    """Plain nbgrader: one `nbgrader autograde` per submission, one after the other."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    durations = []
    for student in students:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT_ID, "--student", student,
                        "--force", "--create"], cwd=course, env=env, capture_output=True, check=False)
        durations.append(time.perf_counter() - start)
    return durations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()
    cores = os.cpu_count()
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as scratch:
        plain, kit = Path(scratch) / "plain", Path(scratch) / "kit"
        students = build_course(plain, args.submissions)
        build_course(kit, args.submissions)

        start = time.perf_counter()
        per_submission = serial_nbgrader(plain, students)
        serial_seconds = time.perf_counter() - start

        start = time.perf_counter()
        results = grade(kit, ASSIGNMENT_ID, Limits(), workers=args.workers, progress=False)
        kit_seconds = time.perf_counter() - start

    print(f"machine: {cores} cores; {len(students)} submissions")
    print(f"serial nbgrader autograde: {serial_seconds:8.1f} s  (median {statistics.median(per_submission):.1f} s per submission)")
    print(f"grade ({args.workers or cores} workers):        {kit_seconds:8.1f} s  "
          f"(median {statistics.median(r.seconds for r in results):.1f} s per submission in its worker)")
    print(f"ratio serial / grade: {serial_seconds / kit_seconds:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
