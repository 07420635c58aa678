"""Benchmark: grade the demo class with the sandbox off and on, and compare.

    .venv/bin/python benchmarks/sandbox_overhead.py [--rounds 1] [--workers N]

Each round grades two fresh copies of the demo's course and class (autograder/demo.py:
the reference, the untouched release, three seeded bugs, a notebook that loops forever,
one that exhausts memory, a corrupt one), first without the sandbox, then with it, in
one process run on this machine (alternating which goes first, round by round, so that a
change in the machine's other load does not always fall on the same setting). Prints the
wall time of each, the median seconds per submission in its worker, the load average,
and the ratios (sandbox on / off). Run it on an otherwise idle machine. Needs bubblewrap.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.course import ASSIGNMENT_ID, ROOT, copy_course, run_nbgrader  # noqa: E402
from autograder.demo import DEMO_TIMEOUT, GRADING_ORDER, build_class  # noqa: E402
from autograder.grading.submission import Limits  # noqa: E402
from autograder.grade import grade  # noqa: E402


def grade_demo_class(folder: Path, sandbox: bool, workers: int | None) -> tuple[float, float, dict[str, float]]:
    """Wall seconds to grade the demo class, the median worker seconds, and each student's score."""
    copy_course(folder, ROOT)
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], folder)
    build_class(folder)
    start = time.perf_counter()
    results = grade(folder, ASSIGNMENT_ID, Limits(cpu_seconds=DEMO_TIMEOUT, sandbox=sandbox), workers,
                    progress=False, first=GRADING_ORDER)
    wall = time.perf_counter() - start
    return wall, statistics.median(r.seconds for r in results), {r.student: r.score for r in results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()
    walls, medians = {False: [], True: []}, {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="sandbox-benchmark-") as scratch:
        for round_ in range(args.rounds):
            scores = {}
            for sandbox in (False, True) if round_ % 2 == 0 else (True, False):
                wall, median, scores[sandbox] = grade_demo_class(Path(scratch) / f"{round_}-{sandbox}", sandbox,
                                                                 args.workers)
                walls[sandbox].append(wall)
                medians[sandbox].append(median)
                print(f"round {round_ + 1}, sandbox {'on ' if sandbox else 'off'}: {wall:6.1f} s wall, "
                      f"median {median:5.1f} s per submission, load average {os.getloadavg()[0]:.1f}", flush=True)
            differing = {s: (scores[False][s], scores[True].get(s)) for s in scores[False]
                         if scores[False][s] != scores[True].get(s)}
            print(f"  scores that differ between off and on: {differing or 'none'}")
    off, on = statistics.median(walls[False]), statistics.median(walls[True])
    print(f"machine: {os.cpu_count()} cores; {args.rounds} round(s); medians over rounds")
    print(f"wall time: off {off:.1f} s, on {on:.1f} s, ratio on/off {on / off:.3f}")
    m_off, m_on = statistics.median(medians[False]), statistics.median(medians[True])
    print(f"median per submission: off {m_off:.1f} s, on {m_on:.1f} s, ratio on/off {m_on / m_off:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
