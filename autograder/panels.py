"""Which nbgrader panels a student's JupyterLab shows: a Jupyter config folder that hides the others.

nbgrader turns on all its server and lab extensions for everyone using the environment.
A student has no course to grade, so the formgrader, the course list and "create
assignment" only confuse (or fail); without an exchange, the assignment list fails too.
A folder written here, put on JUPYTER_CONFIG_PATH (or copied into ~/.jupyter), turns them
off for the JupyterLab started with it; the validate button stays.
"""
from __future__ import annotations

import json
from pathlib import Path

# nbgrader's parts: (server extension or None, lab plugin)
FORMGRADER = ("nbgrader.server_extensions.formgrader", "@jupyter/nbgrader:formgrader")
COURSE_LIST = ("nbgrader.server_extensions.course_list", "@jupyter/nbgrader:course-list")
CREATE_ASSIGNMENT = (None, "@jupyter/nbgrader:create-assignment")
ASSIGNMENT_LIST = ("nbgrader.server_extensions.assignment_list", "@jupyter/nbgrader:assignment-list")
INSTRUCTOR_ONLY = (FORMGRADER, COURSE_LIST, CREATE_ASSIGNMENT)

SERVER_CONFIG = "jupyter_server_config.json"
PAGE_CONFIG = Path("labconfig") / "page_config.json"


def write_panel_config(folder: Path, hidden) -> list[Path]:
    """Write a Jupyter config folder that turns off the `hidden` nbgrader parts; return the files written."""
    server = {"ServerApp": {"jpserver_extensions": {name: False for name, _ in hidden if name}}}
    page = {"disabledExtensions": {plugin: True for _, plugin in hidden}}
    folder = Path(folder)
    (folder / PAGE_CONFIG).parent.mkdir(parents=True, exist_ok=True)
    (folder / SERVER_CONFIG).write_text(json.dumps(server, indent=2) + "\n")
    (folder / PAGE_CONFIG).write_text(json.dumps(page, indent=2) + "\n")
    return [folder / SERVER_CONFIG, folder / PAGE_CONFIG]


def write_student_config(folder: Path, exchange: bool) -> list[Path]:
    """A student's Jupyter config folder; `exchange`: keep the assignment list (a course with an exchange)."""
    return write_panel_config(folder, INSTRUCTOR_ONLY if exchange else (*INSTRUCTOR_ONLY, ASSIGNMENT_LIST))
