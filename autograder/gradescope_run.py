"""Grade one Gradescope submission: what `run_autograder` runs (and `setup_python.sh` prepares).

    python -m autograder.gradescope_run            # grade submission/ into results/results.json
    python -m autograder.gradescope_run --prepare  # once, at setup: the course and its gradebook

Paths follow Gradescope's layout under AUTOGRADER_ROOT (default /autograder): source/ holds
the zip's contents (the kit, the course's notebooks, gradescope_config.json), submission/
the student's files, results/results.json the outcome. The submission becomes a one-student
nbgrader course, graded by the kit's `grade` in its sandbox; a results.json is written
whatever happens.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

from .course import SOURCE_DIR, copy_course
from .grade import SandboxUnavailable, crashed_execution, grade, gradebook_template
from .grading.submission import Limits
from .gradescope_results import results_json
from .results import SubmissionResult

SETTINGS_FILE = "gradescope_config.json"
STUDENT = "student"
SKIPPED_PARTS = (".", "__MACOSX")   # checkpoints, hidden folders, macOS zip debris


@dataclass(frozen=True)
class Layout:
    """Where Gradescope puts things, under one root."""
    root: Path

    @classmethod
    def from_env(cls, env=os.environ) -> "Layout":
        return cls(Path(env.get("AUTOGRADER_ROOT") or "/autograder"))

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def results(self) -> Path:
        return self.root / "results" / "results.json"

    @property
    def course(self) -> Path:
        """The prepared course; under the kit's grading/, which the sandbox hides from submissions."""
        return self.source / "grading" / "gradescope-course"


def load_config(source: Path) -> dict:
    """The settings `python -m autograder gradescope` wrote into the zip."""
    path = Path(source) / SETTINGS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: build the zip with `python -m autograder gradescope`.")
    return json.loads(path.read_text())


def prepare(dest: Path, source: Path, assignment: str) -> Path:
    """A course at `dest` with the config, the notebooks and a gradebook that knows the assignment."""
    shutil.rmtree(dest, ignore_errors=True)
    copy_course(dest, root=source, with_release=True)
    gradebook_template(dest, assignment)
    return dest


def collect_notebooks(submission: Path, expected: list[str]) -> tuple[dict[str, Path], list[str]]:
    """The submitted file for each expected notebook name, found anywhere under `submission`, and notes.

    The shallowest copy of a name wins; other notebooks and links are not graded (the notes say so).
    """
    found, notes, ignored = {}, [], []
    paths = [p for p in Path(submission).rglob("*.ipynb")
             if not any(part.startswith(SKIPPED_PARTS) for part in p.relative_to(submission).parts)]
    for path in sorted(paths, key=lambda p: (len(p.relative_to(submission).parts), str(p))):
        relative = path.relative_to(submission)
        if path.is_symlink() or not path.is_file():
            ignored.append(f"{relative} (a link)")
        elif path.name not in expected:
            ignored.append(str(relative))
        elif path.name in found:
            notes.append(f"{relative} was not graded: {found[path.name].relative_to(submission)} has the same name.")
        else:
            found[path.name] = path
    if ignored:
        notes.append(f"Not graded: {', '.join(ignored)}. The notebooks graded are: {', '.join(expected)}.")
    return found, notes


def grade_submission(layout: Layout, config: dict) -> tuple[SubmissionResult, list[str], list[str]]:
    """Grade layout.submission; returns the result, notes for the student and notes for the instructor."""
    assignment = config["assignment"]
    with tempfile.TemporaryDirectory(prefix="gradescope-") as scratch:
        course = Path(scratch) / "course"
        if (layout.course / "gradebook.db").is_file():
            shutil.copytree(layout.course, course)
        else:
            prepare(course, layout.source, assignment)
        expected = sorted(p.name for p in (course / SOURCE_DIR / assignment).glob("*.ipynb"))
        found, notes = collect_notebooks(layout.submission, expected)
        folder = course / "submitted" / STUDENT / assignment
        folder.mkdir(parents=True)
        for name, path in found.items():
            shutil.copyfile(path, folder / name)
        limits = Limits(**config["limits"])
        cifar10_dir = os.environ.get("CIFAR10_DIR") or str(layout.source / "datasets" / "cifar-10-batches-py")
        instructor = []
        try:
            result = _grade(course, assignment, limits, cifar10_dir, config["allow_no_sandbox"], instructor)
        except Exception as error:   # always a results.json: zero points, saying why
            traceback.print_exc(file=sys.stdout)
            if isinstance(error, SandboxUnavailable):
                detail = "the autograder could not make its sandbox in this container; your instructor can see why"
            else:
                detail = f"the autograder itself failed ({type(error).__name__}); your instructor can see why"
                instructor.append(f"The autograder failed: {type(error).__name__}: {error}")
            result = crashed_execution(course, assignment, STUDENT, folder, detail).result
    return result, notes, instructor


def _grade(course: Path, assignment: str, limits: Limits, cifar10_dir: str, allow_no_sandbox: bool,
           instructor: list[str]) -> SubmissionResult:
    """The one student's result, in the sandbox; without it only if allowed (noted for the instructor)."""
    try:
        [result] = grade(course, assignment, limits, workers=1, progress=False, cifar10_dir=cifar10_dir)
    except SandboxUnavailable as error:
        if not allow_no_sandbox:
            instructor.append(f"Not graded: {error} To grade without the sandbox here, rebuild the zip with "
                              "`python -m autograder gradescope --allow-no-sandbox`.")
            raise
        instructor.append(f"Graded without the sandbox (the zip was built with --allow-no-sandbox): {error}")
        [result] = grade(course, assignment, replace(limits, sandbox=False), workers=1, progress=False,
                         cifar10_dir=cifar10_dir)
    return result


def write_results(layout: Layout, record: dict) -> Path:
    layout.results.parent.mkdir(parents=True, exist_ok=True)
    layout.results.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return layout.results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope_run", description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true",
                        help="build the course and its gradebook once (setup_python.sh does it), then exit")
    args = parser.parse_args(argv)
    layout = Layout.from_env()
    config = load_config(layout.source)
    if args.prepare:
        print(f"Prepared the course at {prepare(layout.course, layout.source, config['assignment'])}")
        return 0
    try:
        result, notes, instructor = grade_submission(layout, config)
        record = results_json(result, layout.source / SOURCE_DIR / config["assignment"], notes, instructor)
    except Exception as error:   # not even a zero result per test could be made: still a results.json
        write_results(layout, {"score": 0.0, "output": f"The autograder failed ({type(error).__name__}); your "
                               "instructor can see why.", "stdout_visibility": "hidden", "tests": []})
        raise
    write_results(layout, record)
    print(f"{result.score:g} of {result.max_score:g} points ({result.status}); wrote {layout.results}")
    for line in [*instructor, *notes, *(f"  {t.grade_id}: {t.points:g}/{t.max_points:g} {t.message[:200]}"
                                        for t in result.tests)]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
