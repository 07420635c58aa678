"""`gradescope`: write autograder.zip, the course's autograder for Gradescope.

Upload the zip as a Gradescope programming assignment's autograder. It holds the kit's
grading code, the helper package (as a wheel), the course's reference and release
notebooks, and Gradescope's two entry points:

    setup.sh          once, as root, when Gradescope builds the image: the sandbox's system
                      packages and a Python 3.11+, then setup_python.sh (a virtual environment,
                      the pinned packages, the wheel, a verified CIFAR-10, the prepared course)
    run_autograder    per submission: grades the .ipynb files found anywhere in the submission
                      (autograder/gradescope_run.py) and writes results/results.json

Submissions run in the kit's sandbox. Where a container cannot make one, grading stops
with zero points and says why, unless the zip was built with --allow-no-sandbox.
"""
from __future__ import annotations

import json
import sys
import tempfile
import zipfile
from pathlib import Path

from .course import ASSIGNMENT_ID, CONFIG_FILE, RELEASE_DIR, ROOT, SOURCE_DIR, add_course_arguments
from .grading.submission import Limits
from .gradescope_run import SETTINGS_FILE
from .helper_wheel import build_wheel

TEMPLATES = Path(__file__).resolve().parent / "gradescope_files"
ENTRY_POINTS = ("setup.sh", "setup_python.sh", "run_autograder")
KIT_FILES = ("pyproject.toml", "requirements.txt", "datasets/get_datasets.sh", "datasets/README.md")
KIT_PACKAGES = ("autograder", "nn_helpers")
SKIPPED = ("__pycache__", ".ipynb_checkpoints")
DATE = (1980, 1, 1, 0, 0, 0)   # fixed timestamps: the same files make the same zip


def zip_contents(course: Path, assignment: str, wheel: Path, kit: Path = ROOT) -> dict[str, Path]:
    """Name in the zip -> file on disk, for everything the autograder needs."""
    contents = {name: TEMPLATES / name for name in ENTRY_POINTS}
    contents.update({name: kit / name for name in KIT_FILES})
    for package in KIT_PACKAGES:
        contents.update(_tree(kit, kit / package))
    contents[CONFIG_FILE] = course / CONFIG_FILE
    for folder in (SOURCE_DIR, RELEASE_DIR):
        contents.update(_tree(course, course / folder / assignment))
    contents[f"dist/{wheel.name}"] = wheel
    return contents


def _tree(base: Path, folder: Path) -> dict[str, Path]:
    return {path.relative_to(base).as_posix(): path for path in sorted(folder.rglob("*"))
            if path.is_file() and not any(part in SKIPPED for part in path.parts) and path.suffix != ".pyc"
            and path.suffix != ".npz"}


def settings(assignment: str, limits: Limits, allow_no_sandbox: bool) -> dict:
    """gradescope_config.json: what run_autograder reads (autograder/gradescope_run.py)."""
    return {"assignment": assignment, "allow_no_sandbox": allow_no_sandbox,
            "limits": {"cpu_seconds": limits.cpu_seconds, "memory_bytes": limits.memory_bytes,
                       "test_seconds": limits.test_seconds}}


def write_zip(output: Path, course: Path = Path("."), assignment: str = ASSIGNMENT_ID, limits: Limits = Limits(),
              allow_no_sandbox: bool = False, wheel: Path | None = None) -> Path:
    """Write the autograder zip for `course`'s `assignment`; build the helper wheel unless `wheel` is given.

    Raises FileNotFoundError naming what is missing and how to make it.
    """
    course = Path(course).resolve()
    for folder, fix in ((course / SOURCE_DIR / assignment, "the reference notebooks are nbgrader's source"),
                        (course / RELEASE_DIR / assignment, "run `python -m autograder release` first")):
        if not any(folder.glob("*.ipynb")):
            raise FileNotFoundError(f"No notebooks in {folder}: {fix}.")
    output = Path(output).resolve()
    with tempfile.TemporaryDirectory(prefix="gradescope-wheel-") as scratch:
        wheel = Path(wheel) if wheel else build_wheel(Path(scratch))
        contents = zip_contents(course, assignment, wheel)
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, path in sorted(contents.items()):
                _add(archive, name, path.read_bytes(), executable=name in ENTRY_POINTS)
            _add(archive, SETTINGS_FILE, (json.dumps(settings(assignment, limits, allow_no_sandbox), indent=1)
                                          + "\n").encode())
    return output


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, DATE)
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def add_arguments(parser) -> None:
    defaults = Limits()
    add_course_arguments(parser, output_help="the zip to write (default: autograder.zip)")
    parser.add_argument("--allow-no-sandbox", action="store_true",
                        help="grade without the sandbox where Gradescope's container cannot make one "
                             "(submissions could then read the reference solutions; see the README)")
    parser.add_argument("--timeout", type=float, default=defaults.cpu_seconds,
                        help=f"CPU seconds a whole submission may use (default: {defaults.cpu_seconds:.0f}); "
                             "keep it below Gradescope's own timeout")
    parser.add_argument("--memory", type=float, default=defaults.memory_bytes / 2 ** 30,
                        help=f"GiB of memory a submission may use (default: {defaults.memory_bytes / 2 ** 30:.0f})")
    parser.add_argument("--test-timeout", type=float, default=defaults.test_seconds,
                        help=f"seconds each test may take (default: {defaults.test_seconds:.0f})")
    parser.add_argument("--wheel", default=None, help="a helper wheel built already (default: build one with pip)")


def command(args) -> int:
    limits = Limits(cpu_seconds=args.timeout, memory_bytes=int(args.memory * 2 ** 30), test_seconds=args.test_timeout)
    try:
        output = write_zip(Path(args.output or "autograder.zip"), Path(args.course), args.assignment, limits,
                           args.allow_no_sandbox, Path(args.wheel) if args.wheel else None)
    except (FileNotFoundError, RuntimeError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Wrote {output}: upload it as the assignment's autograder on Gradescope "
          f"(sandbox {'optional' if args.allow_no_sandbox else 'required'}).")
    return 0
