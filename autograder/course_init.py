"""`course-init`: create an nbgrader course folder for real use, with an exchange, graded by this kit.

Writes into DIR:

    nbgrader_config.py   the instructor's config: course id, exchange, gradebook URL, the
                         kit's settings, and the guard that keeps the formgrader's Autograde
                         button (and `nbgrader autograde`) from bypassing the kit
    solutions/<assignment>/  a copy of the kit's reference notebooks (nbgrader's source folder)
    student/             what each student needs: nbgrader_config.py (course id, exchange) and
                         the Jupyter config that hides the instructor's panels; copy it into
                         the student's ~/.jupyter/

and creates the exchange folder world-writable with the sticky bit (mode 1777), as nbgrader
needs. Running it again rewrites the generated configs and keeps everything else.
"""
from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from .course import ASSIGNMENT_ID, CONFIG_FILE, ROOT, RUN_ARTIFACTS, SOURCE_DIR
from .gradebook_url import db_url_lines
from .nbgrader_guard import FEEDBACK_PREPROCESSORS, guard_lines
from .panels import write_student_config

DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
STUDENT_DIR = "student"
# The kit's settings that are the course's own (everything else is copied from the kit's config).
COURSE_SETTINGS = {("CourseDirectory", "root"), ("CourseDirectory", "course_id"), ("Autograde", "exporter_class"),
                   ("GenerateFeedback", "preprocessors")}


class CourseInitError(RuntimeError):
    """The course cannot be created as asked; the message says why and what to do."""


def kit_settings(kit: Path = ROOT) -> list[str]:
    """The kit's nbgrader settings (stubs, ignored files, time limits, folder names) as config lines."""
    config = PyFileConfigLoader(CONFIG_FILE, path=str(kit)).load_config()
    return [f"c.{section}.{key} = {value!r}" for section, values in sorted(config.items())
            for key, value in sorted(values.items()) if (section, key) not in COURSE_SETTINGS]


def instructor_config(course: Path, course_id: str, exchange: str, db_url: str | None, kit: Path = ROOT) -> str:
    """The text of the course's nbgrader_config.py."""
    lines = [
        f'"""nbgrader config of the course {course_id!r}, written by `python -m autograder course-init`.',
        "",
        "The kit grades in scratch copies of this file (one per submission, where nbgrader runs in the",
        "sandbox): what belongs to the course itself applies only where this file was written.",
        '"""',
        "import os",
        "import sys",
        "",
        "c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)",
        "",
        f"KIT = {str(kit)!r}  # the assignment kit that grades this course",
        f"COURSE = {str(course)!r}  # this course folder",
        "HERE = os.path.dirname(os.path.realpath(__file__))",
        "",
        "c.CourseDirectory.root = HERE",
        f"c.CourseDirectory.course_id = {course_id!r}",
        f"c.Exchange.root = {exchange!r}",
        "# The kit's settings (from its nbgrader_config.py when the course was made):",
        *kit_settings(kit),
        "# nbgrader's own feedback (the formgrader's Generate Feedback) must not show the hidden tests.",
        f"c.GenerateFeedback.preprocessors = {list(FEEDBACK_PREPROCESSORS)!r}",
        "",
        "if HERE == COURSE:",
        *db_url_lines(db_url, indent="    "),
        *guard_lines(indent="    "),
    ]
    return "\n".join(lines) + "\n"


def student_config(course_id: str, exchange: str) -> str:
    """The text of the students' nbgrader_config.py."""
    return "\n".join([
        f'"""nbgrader config for students of {course_id!r}: where assignments are released and submitted."""',
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.course_id = {course_id!r}",
        f"c.Exchange.root = {exchange!r}",
    ]) + "\n"


def ensure_exchange(exchange: Path) -> None:
    """Create the exchange (mode 1777), or check that an existing one lets every user in; else raise."""
    fix = f"run as an administrator: `mkdir -p {exchange} && chmod 1777 {exchange}`"
    if not exchange.exists():
        try:
            exchange.mkdir(parents=True)
            exchange.chmod(0o1777)
        except PermissionError as error:
            raise CourseInitError(f"Cannot create the exchange {exchange} ({error.strerror}): {fix}.") from None
    if not exchange.is_dir():
        raise CourseInitError(f"The exchange {exchange} is not a folder: choose another --exchange.")
    mode = stat.S_IMODE(exchange.stat().st_mode)
    if mode & 0o777 != 0o777:
        raise CourseInitError(f"The exchange {exchange} has mode {mode:o}; every user must be able to write "
                              f"into it (nbgrader needs 777, with the sticky bit: 1777): {fix}.")


def course_init(course: Path, course_id: str, exchange: str = DEFAULT_EXCHANGE, db_url: str | None = None,
                assignment: str = ASSIGNMENT_ID, kit: Path = ROOT) -> Path:
    """Create (or update) the course folder; return it. Raises CourseInitError on bad input."""
    if not course_id or not course_id.replace("_", "").replace("-", "").isalnum():
        raise CourseInitError(f"--course-id {course_id!r} must be letters, digits, '-' or '_' "
                              "(nbgrader uses it as a folder name in the exchange).")
    if not os.path.isabs(exchange):
        raise CourseInitError(f"--exchange {exchange!r} must be an absolute path (every user's nbgrader reads it).")
    course = Path(course).resolve()
    if course == kit.resolve() or kit.resolve() in course.parents:
        raise CourseInitError(f"{course} is inside the kit ({kit}): choose a folder outside it.")
    ensure_exchange(Path(exchange))
    if not course.exists():
        course.mkdir(parents=True)
        course.chmod(0o700)   # it holds the solutions and the gradebook
    source = course / SOURCE_DIR / assignment
    if not source.exists():
        shutil.copytree(kit / SOURCE_DIR / assignment, source, ignore=RUN_ARTIFACTS)
    (course / CONFIG_FILE).write_text(instructor_config(course, course_id, exchange, db_url, kit))
    students = course / STUDENT_DIR
    students.mkdir(exist_ok=True)
    (students / CONFIG_FILE).write_text(student_config(course_id, exchange))
    write_student_config(students, exchange=True)
    return course


def next_steps(course: Path, assignment: str = ASSIGNMENT_ID) -> str:
    """What to run next, printed by the command."""
    kit_python = ROOT / ".venv" / "bin"
    return "\n".join([
        f"Course folder: {course}",
        "Next, as the instructor:",
        f"  cd {course}",
        f"  {kit_python}/nbgrader generate_assignment {assignment}",
        f"  {kit_python}/nbgrader release_assignment {assignment}",
        f"  {kit_python}/nbgrader db assignment add {assignment} --duedate='2026-12-01 17:00:00 UTC'  # optional",
        f"Give each student the folder {course / STUDENT_DIR}: copy it into their ~/.jupyter/",
        "(it names the course and the exchange, and hides the instructor's panels).",
        f"Students then run `nbgrader fetch_assignment {assignment}` and `nbgrader submit {assignment}`",
        "(or use the Assignment List in JupyterLab). Then, as the instructor:",
        f"  {kit_python}/nbgrader collect {assignment}",
        f"  cd {ROOT} && .venv/bin/python -m autograder grade --course {course}",
        f"  cd {ROOT} && .venv/bin/python -m autograder exchange-feedback --course {course}",
        f"  cd {course} && {kit_python}/nbgrader release_feedback {assignment}",
        f"The formgrader: `cd {course} && {kit_python}/jupyter lab`, menu Nbgrader > Formgrader.",
    ])


def add_arguments(parser) -> None:
    parser.add_argument("dir", type=Path, help="the course folder to create (outside the kit)")
    parser.add_argument("--course-id", required=True, help="nbgrader's course id (letters, digits, '-', '_')")
    parser.add_argument("--exchange", default=DEFAULT_EXCHANGE,
                        help=f"nbgrader's exchange folder, shared by all users (default: {DEFAULT_EXCHANGE})")
    parser.add_argument("--db-url", default=None,
                        help="the gradebook's SQLAlchemy URL, e.g. postgresql://user@host/db "
                             "(default: sqlite, gradebook.db in the course folder)")
    parser.add_argument("--assignment", default=ASSIGNMENT_ID, help=f"assignment id (default: {ASSIGNMENT_ID})")


def command(args) -> int:
    try:
        course = course_init(args.dir, args.course_id, args.exchange, args.db_url, args.assignment)
    except CourseInitError as error:
        print(error, file=sys.stderr)
        return 1
    print(next_steps(course, args.assignment))
    return 0
