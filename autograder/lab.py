"""`lab`: start JupyterLab with working nbgrader panels, for a student in the kit or an instructor in a course.

    python -m autograder lab                   a student's JupyterLab on assignment/<assignment>/ (or
                                               --folder): no formgrader, course list, create-assignment
                                               or assignment list (there is no exchange in a clone)
    python -m autograder lab --course DIR      the instructor's JupyterLab at the course root, where the
                                               formgrader must start (its gradebook and config are there);
                                               the assignment list shows only when the exchange exists

Anything after `--` goes to `jupyter lab` (e.g. `-- --no-browser --port 8890`).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from nbgrader.exchange.default import Exchange

from .course import ASSIGNMENT_ID, RELEASE_DIR, ROOT
from .gradebook_url import course_directory
from .panels import ASSIGNMENT_LIST, write_panel_config, write_student_config


def exchange_exists(course: Path) -> bool:
    """Does the exchange the course's config names (or nbgrader's default one) exist?"""
    return Path(Exchange(config=course_directory(course).config).root).is_dir()


def lab_command(course: Path | None, config_folder: Path, assignment: str = ASSIGNMENT_ID,
                jupyter_args: tuple[str, ...] = (), folder: Path | None = None) -> tuple[list[str], Path, dict]:
    """(command, folder to start it in, environment) for the student's or the instructor's JupyterLab.

    Writes the Jupyter config (which panels show) into `config_folder`. `folder`: the student's
    notebooks (default: the kit's release).
    """
    if course is None:
        write_student_config(config_folder, exchange=False)
        root = Path(folder).resolve() if folder else ROOT / RELEASE_DIR / assignment
        if not root.is_dir():
            raise FileNotFoundError(f"{root} is not a folder: pass the folder of the assignment's notebooks.")
        cwd = ROOT
    else:
        course = Path(course).resolve()
        if not (course / "nbgrader_config.py").is_file():
            raise FileNotFoundError(f"{course} has no nbgrader_config.py: pass the course folder (see course-init).")
        write_panel_config(config_folder, hidden=() if exchange_exists(course) else (ASSIGNMENT_LIST,))
        cwd = root = course   # the formgrader reads nbgrader_config.py from the folder it starts in
    paths = [str(config_folder), *filter(None, [os.environ.get("JUPYTER_CONFIG_PATH")])]
    env = dict(os.environ, JUPYTER_CONFIG_PATH=os.pathsep.join(paths),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}", *jupyter_args]
    return command, cwd, env


def add_arguments(parser) -> None:
    parser.add_argument("--course", type=Path, default=None,
                        help="an nbgrader course folder: start the instructor's JupyterLab there (formgrader)")
    parser.add_argument("--assignment", default=ASSIGNMENT_ID, help=f"assignment id (default: {ASSIGNMENT_ID})")
    parser.add_argument("--folder", type=Path, default=None,
                        help=f"a student's notebooks to open (default: {RELEASE_DIR}/<assignment>/ of the kit)")
    parser.add_argument("jupyter_args", nargs=argparse.REMAINDER, help="after --: options for jupyter lab")


def command(args) -> int:
    extra = tuple(a for a in args.jupyter_args if a != "--")
    config_folder = Path(tempfile.mkdtemp(prefix="kit-lab-config-"))
    try:
        command, cwd, env = lab_command(args.course, config_folder, args.assignment, extra, args.folder)
        server = subprocess.Popen(command, cwd=cwd, env=env)
        signal.signal(signal.SIGTERM, lambda *_: server.terminate())   # stopping this stops JupyterLab
        try:
            return server.wait()
        except KeyboardInterrupt:   # JupyterLab got the Ctrl-C too and asks for confirmation
            return server.wait()
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(config_folder, ignore_errors=True)
