"""Which nbgrader panels JupyterLab shows, and whether they work, seen in a real headless browser.

Three JupyterLabs started as the README says: a student in a clone of the kit (`lab`), a
student of a course made by `course-init` (the course's student config), and the instructor
at that course's root (`lab --course`). Each page is checked for nbgrader's error messages
and saved as a PNG (in $PANEL_SCREENSHOTS when set, else in the test's temporary folder).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from autograder.course import ASSIGNMENT_ID, RELEASE_DIR, ROOT, run_nbgrader
from autograder.course_init import course_init
from autograder.panels import ASSIGNMENT_LIST, INSTRUCTOR_ONLY, PAGE_CONFIG, SERVER_CONFIG, write_student_config
from browser_fixtures import chromium, jupyter_labs, python_env, require_browser

ERRORS = ("error fetching courses", "exchange directory does not exist",
          "sorry, the formgrader encountered an error", "course directory root is not a subdirectory")
NOTEBOOK = "1_computational_graphs.ipynb"
STUDENT = "ada"


def test_student_config_turns_off_the_instructor_panels():
    """Does a student's config turn off the instructor's panels (and the assignment list when there is no exchange)?"""
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        for exchange in (True, False):
            write_student_config(Path(folder), exchange)
            server = json.loads((Path(folder) / SERVER_CONFIG).read_text())["ServerApp"]["jpserver_extensions"]
            page = json.loads((Path(folder) / PAGE_CONFIG).read_text())["disabledExtensions"]
            hidden = INSTRUCTOR_ONLY if exchange else (*INSTRUCTOR_ONLY, ASSIGNMENT_LIST)
            assert set(page) == {plugin for _, plugin in hidden} and all(page.values())
            assert set(server) == {name for name, _ in hidden if name} and not any(server.values())


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    """The three JupyterLabs, started side by side: name -> (url, token)."""
    require_browser()
    base = tmp_path_factory.mktemp("panels")
    course = course_init(base / "course", "nn101", str(base / "exchange"))
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID], course)
    run_nbgrader(["release_assignment", ASSIGNMENT_ID], course)
    submitted = course / "submitted" / STUDENT / ASSIGNMENT_ID   # as `nbgrader collect` leaves a submission
    shutil.copytree(course / "assignment" / ASSIGNMENT_ID, submitted)
    (submitted / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    (base / "home").mkdir()
    env = dict(python_env(), PYTHONPATH=str(ROOT))
    kit = [sys.executable, "-m", "autograder", "lab"]
    work = base / "clone-work"   # a copy of the release: opening a notebook writes .ipynb_checkpoints beside it
    shutil.copytree(ROOT / RELEASE_DIR / ASSIGNMENT_ID, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    starts = {
        "student_clone": (kit + ["--folder", str(work), "--"], ROOT, env),
        "student_course": ([sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={base / 'home'}"],
                           base / "home", dict(env, JUPYTER_CONFIG_PATH=str(course / "student"))),
        "instructor": (kit + ["--course", str(course), "--"], ROOT, env),
    }
    for name, (_, _, environment) in starts.items():   # a user config folder (and saved layout) of its own
        environment["JUPYTER_CONFIG_DIR"] = str(base / f"{name}-user-config")
        (base / f"{name}-user-config" / "labconfig").mkdir(parents=True)   # no "Jupyter news?" prompt
        (base / f"{name}-user-config" / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    with jupyter_labs(starts, base) as urls:
        yield {**urls, "course": course}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("PANEL_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_until(check, what: str, timeout: float = 90):
    """Poll `check()` until it returns something true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def open_lab(driver, lab, path: str = "lab"):
    """Open JupyterLab and wait until it has started and restored its layout."""
    url, token = lab
    driver.get(f"{url}/{path}?token={token}")
    wait_until(lambda: driver.execute_script("return !!(window.jupyterapp && document.querySelector('.jp-LabShell'))"),
               "JupyterLab to load")
    driver.set_script_timeout(60)
    driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                "window.jupyterapp.restored.then(() => done(true));")


def run_command(driver, command: str, args: dict | None = None) -> None:
    outcome = driver.execute_async_script(
        "const [id, args, done] = arguments;"
        "window.jupyterapp.commands.execute(id, args).then(() => done('ok'), e => done(String(e)));",
        command, args or {})
    assert outcome == "ok", f"{command}: {outcome}"


def has_command(driver, command: str) -> bool:
    return driver.execute_script("return window.jupyterapp.commands.hasCommand(arguments[0])", command)


def page_text(driver) -> str:
    """The visible text of the page and of every frame in it (the formgrader is an iframe), lowercase."""
    texts = [driver.execute_script("return document.body.innerText")]
    for frame in driver.find_elements("tag name", "iframe"):
        driver.switch_to.frame(frame)
        texts.append(driver.execute_script("return document.body ? document.body.innerText : ''"))
        driver.switch_to.default_content()
    return " ".join(" ".join(texts).split()).lower()


def assert_no_errors(text: str, where: str) -> None:
    found = [error for error in ERRORS if error in text]
    assert not found, f"{where} shows {found}: {text[:2000]}"


@pytest.mark.slow
def test_student_lab_in_the_kit_has_no_broken_panels(labs, browser, shots):
    """Does `python -m autograder lab` open the release with the Validate button, no instructor panels and no errors?"""
    open_lab(browser, labs["student_clone"])
    run_command(browser, "docmanager:open", {"path": NOTEBOOK})
    wait_until(lambda: "validate" in page_text(browser) and "add_gate" in page_text(browser),
               "the notebook with its Validate button")
    for command in ("nbgrader:open-formgrader", "nbgrader:open-assignment-list", "nbgrader:open-course-list"):
        assert not has_command(browser, command), f"{command} is available to the student"
    browser.save_screenshot(str(shots / "student_clone.png"))
    assert_no_errors(page_text(browser), "the student's JupyterLab in the kit")


@pytest.mark.slow
def test_student_assignment_list_shows_the_released_assignment(labs, browser, shots):
    """With the course's student config, does the Assignment List list the released assignment, without errors?"""
    open_lab(browser, labs["student_course"])
    assert not has_command(browser, "nbgrader:open-formgrader"), "the formgrader is available to the student"
    run_command(browser, "nbgrader:open-assignment-list")
    text = wait_until(lambda: (t := page_text(browser)) and ("two_layer_net" in t or any(e in t for e in ERRORS))
                      and t, "the Assignment List to load")
    browser.save_screenshot(str(shots / "student_assignment_list.png"))
    assert_no_errors(text, "the student's Assignment List")
    assert "released assignments" in text and "two_layer_net" in text and "fetch" in text, text[:2000]


@pytest.mark.slow
def test_instructor_formgrader_manages_the_course(labs, browser, shots):
    """Does the formgrader, started by `lab --course` at the course root, list the assignment, without errors?"""
    open_lab(browser, labs["instructor"])
    run_command(browser, "nbgrader:open-formgrader")
    text = wait_until(lambda: (t := page_text(browser)) and ("manage assignments" in t and "two_layer_net" in t
                                                             or any(e in t for e in ERRORS)) and t,
                      "the formgrader to list the assignment")
    browser.save_screenshot(str(shots / "instructor_formgrader.png"))
    assert_no_errors(text, "the instructor's formgrader")
    assert "released" in text or "release" in text, text[:2000]


@pytest.mark.slow
def test_formgrader_autograde_button_points_to_the_kit(labs, browser, shots):
    """Does the formgrader's Autograde button (on a collected submission) answer with the kit's command, not a grade?"""
    url, token = labs["instructor"]
    browser.get(f"{url}/formgrader/manage_submissions/{ASSIGNMENT_ID}?token={token}")
    button = wait_until(lambda: browser.find_elements("css selector", ".autograde a"), "the submission's row")
    button[0].click()
    text = wait_until(lambda: (t := page_text(browser)) and "there was an error autograding" in t and t,
                      "the formgrader's answer to Autograde")
    browser.save_screenshot(str(shots / "instructor_autograde_button.png"))
    assert "python -m autograder grade --course" in text and "graded by the assignment kit" in text, text[:2000]
    assert not (labs["course"] / "autograded" / STUDENT).exists(), "plain nbgrader graded the submission"
