"""nbgrader's whole workflow on a course made by `course-init`, with two real unix accounts and an exchange.

The instructor makes the course, generates and releases the assignment, adds the student to
the roster and sets a due date in the past; the student fetches it, solves notebook 1, leaves
notebook 2 as released, deletes the rest and submits (late); the instructor collects, grades
with the kit, writes the kit's feedback into nbgrader's layout and releases it; the student
fetches it. Each nbgrader command runs as the account nbgrader expects. The whole workflow
runs once (15 commands, each a new Python process: a few minutes on 2 busy cores); each
test checks one claim about what it left behind.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from nbgrader.utils import parse_utc

from autograder.course import ASSIGNMENT_ID, ROOT, release_notebooks, source_notebooks
from autograder.grading.scoring import autograded_tests
from autograder.quality.mutants import write_reference
from account_fixtures import make_account, remove_account, require_root, run_as

pytestmark = pytest.mark.slow

COURSE_ID = "nn101"
DUE = "2020-01-06 09:00:00 UTC"                          # long past: every submission is late
SUBMITTED = ("1_computational_graphs.ipynb", "2_layers.ipynb")   # solved, and as released
FIRST, LAST = "Ada", "Lovelace"

STATE = """
import json, sys
from nbgrader.api import Gradebook
from autograder.gradebook_url import course_directory
coursedir = course_directory(sys.argv[1])
with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
    s = gradebook.find_submission(sys.argv[2], sys.argv[3])
    print(json.dumps({"timestamp": str(s.timestamp), "seconds_late": s.total_seconds_late, "score": s.score,
                      "penalty": s.late_submission_penalty, "first": s.student.first_name,
                      "last": s.student.last_name,
                      "notebooks": {n.name: n.score for n in s.notebooks}}))
"""
BUTTON = """
import json, sys
from nbgrader.apps import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader
from autograder.gradebook_url import course_directory
coursedir = course_directory(sys.argv[1])
config = PyFileConfigLoader("nbgrader_config.py", path=sys.argv[1]).load_config()
outcome = NbGraderAPI(coursedir, config=config).autograde(sys.argv[2], sys.argv[3])  # what the button calls
print(json.dumps({"success": outcome["success"], "log": outcome.get("log", "")}))
"""


@pytest.fixture(scope="module")
def workflow():
    """Run the whole workflow; yield what each step left (paths, outputs, gradebook states)."""
    require_root()
    base = Path(tempfile.mkdtemp(prefix="exchange-test-"))
    base.chmod(0o755)
    instructor, student = make_account("kiti"), make_account("kits")
    try:
        yield _run_workflow(base, instructor, student)
    finally:
        remove_account(instructor)
        remove_account(student)
        shutil.rmtree(base, ignore_errors=True)


def _run_workflow(base: Path, instructor: str, student: str) -> dict:
    shutil.chown(base, instructor)
    course, exchange = base / "course", base / "exchange"
    home = Path(f"~{student}").expanduser()

    timings = {}

    def timed(user, command, cwd):
        start = time.perf_counter()
        try:
            return run_as(user, command, cwd)
        finally:
            timings[command[:60]] = round(time.perf_counter() - start, 1)

    def teacher(command, cwd=course):
        return timed(instructor, command, cwd)

    def learner(command, cwd=home):
        return timed(student, command, cwd)

    teacher(f"python -m autograder course-init {course} --course-id {COURSE_ID} --exchange {exchange}", cwd=ROOT)
    teacher(f"python -m nbgrader generate_assignment {ASSIGNMENT_ID}")
    teacher(f"python -m nbgrader release_assignment {ASSIGNMENT_ID}")
    teacher(f"python -m nbgrader db student add {student} --first-name={FIRST} --last-name={LAST}")
    teacher(f"python -m nbgrader db assignment add {ASSIGNMENT_ID} --duedate='{DUE}'")

    # the administrator hands the student the course's student config
    shutil.copytree(course / "student", home / ".jupyter", dirs_exist_ok=True)
    subprocess.run(["chown", "-R", f"{student}:", str(home / ".jupyter")], check=True)

    learner(f"python -m nbgrader fetch_assignment {ASSIGNMENT_ID}")
    work = home / ASSIGNMENT_ID
    solved = write_reference(source_notebooks(), release_notebooks(), base / "solved")
    shutil.copy(solved / SUBMITTED[0], work / SUBMITTED[0])
    for path in work.glob("*.ipynb"):
        if path.name not in SUBMITTED:
            path.unlink()
    subprocess.run(["chown", "-R", f"{student}:", str(work)], check=True)
    submit = learner(f"python -m nbgrader submit {ASSIGNMENT_ID}")

    teacher(f"python -m nbgrader collect {ASSIGNMENT_ID}")
    sandbox = teacher("python -c 'from autograder.sandbox import sandbox_unavailable; "
                      "print(sandbox_unavailable() or \"\")'", cwd=ROOT).stdout.strip()
    grade = teacher(f"python -m autograder grade --course {course} --no-progress"
                    + (" --no-sandbox" if sandbox else ""), cwd=ROOT)
    autograded = course / "autograded" / student / ASSIGNMENT_ID
    state = [sys_argv_json(teacher, STATE, course, student)]
    files = [{p.name: p.stat().st_mtime_ns for p in autograded.iterdir()}]
    button = sys_argv_json(teacher, BUTTON, course, student)
    state.append(sys_argv_json(teacher, STATE, course, student))
    files.append({p.name: p.stat().st_mtime_ns for p in autograded.iterdir()})
    teacher(f"python -m autograder export --course {course}", cwd=ROOT)
    teacher(f"python -m nbgrader generate_feedback {ASSIGNMENT_ID}")   # the formgrader's Generate Feedback
    generated = course / "feedback" / student / ASSIGNMENT_ID
    nbgrader_feedback = {p.name: p.read_text() for p in generated.iterdir()}
    teacher(f"python -m autograder exchange-feedback --course {course}", cwd=ROOT)
    teacher(f"python -m nbgrader release_feedback {ASSIGNMENT_ID}")
    learner(f"python -m nbgrader fetch_feedback {ASSIGNMENT_ID}")
    print("seconds per step:", json.dumps(timings, indent=1))
    return {"course": course, "exchange": exchange, "student": student, "home": home,
            "submit": submit.stdout + submit.stderr, "grade": grade.stdout, "sandbox": sandbox, "state": state,
            "button": button, "autograded": files,
            "nbgrader_feedback": nbgrader_feedback,
            "result": json.loads((course / "grading" / ASSIGNMENT_ID / f"{student}.json").read_text())}


def sys_argv_json(teacher, code: str, course: Path, student: str) -> dict:
    script = course.parent / "snippet.py"
    script.write_text(code)
    script.chmod(0o644)
    out = teacher(f"python {script} {course} {ASSIGNMENT_ID} {student}", cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_course_init_makes_a_sticky_world_writable_exchange(workflow):
    """Does course-init create the exchange with mode 1777, and the course (solutions inside) closed to others?"""
    assert workflow["exchange"].stat().st_mode & 0o7777 == 0o1777
    assert workflow["course"].stat().st_mode & 0o077 == 0, "students must not read the solutions"


def notebook_points(notebook: str) -> float:
    """The autograded points of one notebook of the real assignment."""
    return sum(points for name, _, points, _ in autograded_tests(source_notebooks()) if name == notebook)


def test_collected_submission_is_graded_by_the_kit(workflow):
    """Are the submitted notebooks graded (1 full marks, 2 zero) and the missing ones zero with a reason?"""
    result = workflow["result"]
    by_notebook = {}
    for test in result["tests"]:
        earned, top = by_notebook.get(test["notebook"], (0.0, 0.0))
        by_notebook[test["notebook"]] = (earned + test["points"], top + test["max_points"])
    full = notebook_points("1_computational_graphs.ipynb")
    assert by_notebook["1_computational_graphs.ipynb"] == (full, full), by_notebook
    assert by_notebook["2_layers.ipynb"][0] == 0.0, by_notebook
    missing = {f["notebook"] for f in result["failures"] if "missing" in f["detail"]}
    assert missing == {"3_vanishing_gradients.ipynb", "4_two_layer_net.ipynb", "5_solver.ipynb",
                       "6_training_cifar10.ipynb", "7_hyperparameter_search.ipynb"}, result["failures"]
    assert workflow["state"][0]["score"] == result["score"] == full, (workflow["state"][0], result["score"])


def test_the_unprivileged_instructor_grades_in_the_sandbox(workflow):
    """Could the instructor's own (non-root) account make the grading sandbox, so that `grade` above ran in it?"""
    assert workflow["sandbox"] == "", f"grade ran with --no-sandbox as the instructor: {workflow['sandbox']}"


def test_late_submission_is_marked_from_nbgraders_timestamp(workflow):
    """Does the gradebook keep the exchange's submission time (timestamp.txt) and count it late against the due date?"""
    submitted = workflow["course"] / "submitted" / workflow["student"] / ASSIGNMENT_ID / "timestamp.txt"
    state = workflow["state"][0]
    assert parse_utc(state["timestamp"]) == parse_utc(submitted.read_text()), (state, submitted.read_text())
    assert state["seconds_late"] > (parse_utc(state["timestamp"]) - parse_utc(DUE)).total_seconds() - 1
    assert state["seconds_late"] > 0


def test_roster_names_reach_the_gradebook_and_nbgraders_csv(workflow):
    """Do the roster's names stay on the student (kit grading does not replace them) and appear in grades.csv?"""
    assert (workflow["state"][0]["first"], workflow["state"][0]["last"]) == (FIRST, LAST)
    csv = (workflow["course"] / "exports" / ASSIGNMENT_ID / "grades.csv").read_text()
    assert f"{workflow['student']},{LAST},{FIRST}" in csv, csv


def test_formgrader_autograde_button_refuses_and_changes_nothing(workflow):
    """Does nbgrader's Autograde (the formgrader's button) refuse, name the kit's command, and leave the grade as is?"""
    button = workflow["button"]
    assert not button["success"]
    assert "python -m autograder grade --course" in button["log"], button["log"]
    assert workflow["state"][1] == workflow["state"][0]
    before, after = workflow["autograded"]
    assert set(SUBMITTED) <= set(before) and after == before, (before, after)


def test_student_fetches_the_kits_feedback_through_the_exchange(workflow):
    """Does `nbgrader fetch_feedback` give the student the kit's page for each submitted notebook, without test code?"""
    fetched = sorted((workflow["home"] / ASSIGNMENT_ID / "feedback").glob("*/*.html"))
    assert [p.name for p in fetched] == [name.replace(".ipynb", ".html") for name in SUBMITTED], fetched
    page = fetched[0].read_text()
    assert f"feedback for {workflow['student']}" in page and f"Total: {notebook_points('1_computational_graphs.ipynb'):g} / " in page
    assert "is missing from the submission" in page
    assert "BEGIN HIDDEN TESTS" not in page and "assert " not in page


def test_nbgraders_own_feedback_hides_the_hidden_tests(workflow):
    """Does nbgrader's generate_feedback (a formgrader button) render the kit's graded notebooks without hidden tests?"""
    pages = workflow["nbgrader_feedback"]
    assert "submission_secret.txt" in pages and "timestamp.txt" in pages, sorted(pages)  # release_feedback needs them
    solved, untouched = pages["1_computational_graphs.html"], pages["2_layers.html"]
    assert "add_gate" in solved and "HIDDEN TESTS" not in solved and "HIDDEN TESTS" not in untouched
    assert "Replace this line with your code" in untouched   # the kit's verdict: the stub raised
