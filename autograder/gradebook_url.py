"""Where a course's nbgrader gradebook lives: any SQLAlchemy URL (`CourseDirectory.db_url`), not only SQLite.

nbgrader's default is `sqlite:///<course>/gradebook.db`; a course may name a server
database instead (`postgresql://user@host/db`). The workers never see that URL: each runs
nbgrader in a scratch course with an SQLite copy of the gradebook (`copy_gradebook`), so a
course's own db_url must apply only in the course folder itself (`db_url_lines`).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from nbgrader.api import Base
from nbgrader.coursedir import CourseDirectory
from sqlalchemy import create_engine, insert, inspect, select, text
from sqlalchemy.engine import make_url
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .course import CONFIG_FILE

# Python modules SQLAlchemy needs for a database, and how to get them (postgresql:// means psycopg 3)
DRIVERS = {"psycopg": "pip install 'psycopg[binary]'", "psycopg2": "pip install psycopg2-binary",
           "pymysql": "pip install pymysql", "MySQLdb": "pip install mysqlclient"}


def course_directory(course_root: Path) -> CourseDirectory:
    """nbgrader's view of the course, from the course's nbgrader_config.py (as the gradebook writer loads it);
    nbgrader's defaults where the course has no such file."""
    course_root = Path(course_root).resolve()
    config = PyFileConfigLoader(CONFIG_FILE, path=str(course_root)).load_config() \
        if (course_root / CONFIG_FILE).is_file() else Config()
    config.CourseDirectory.root = str(course_root)
    return CourseDirectory(config=config)


def course_db_url(course_root: Path) -> str:
    """The gradebook URL the course's nbgrader_config.py sets (nbgrader's default when it sets none)."""
    return course_directory(course_root).db_url


def sqlite_file(db_url: str) -> Path | None:
    """The database file of an SQLite URL; None for any other database."""
    url = make_url(db_url)
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def shown(db_url: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(db_url).render_as_string(hide_password=True)


def engine_for(db_url: str):
    """An SQLAlchemy engine; ModuleNotFoundError naming the driver to install when it is missing."""
    try:
        return create_engine(db_url)
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(f"The gradebook URL {shown(db_url)} needs the Python module {error.name!r}, "
                                  f"which is not installed: {DRIVERS.get(error.name, f'pip install {error.name}')} "
                                  "(in the kit's .venv).", name=error.name) from None


def gradebook_exists(db_url: str) -> bool:
    """Does the database hold nbgrader's tables? (Opening nbgrader's Gradebook would create them.)"""
    path = sqlite_file(db_url)
    if path is not None and not path.exists():
        return False
    engine = engine_for(db_url)
    try:
        return "alembic_version" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def copy_gradebook(db_url: str, target: Path) -> Path:
    """Copy the gradebook at `db_url` into a new SQLite file `target` (a file copy when it is SQLite)."""
    target = Path(target)
    if (path := sqlite_file(db_url)) is None:
        return copy_rows(db_url, target)
    target.unlink(missing_ok=True)
    shutil.copy2(path, target)
    return target


def copy_rows(db_url: str, target: Path) -> Path:
    """Copy every row of every nbgrader table at `db_url` into a new SQLite file `target`; return it."""
    target = Path(target)
    target.unlink(missing_ok=True)
    source, copy = engine_for(db_url), create_engine(f"sqlite:///{target}")
    try:
        Base.metadata.create_all(copy)
        with source.connect() as reading, copy.begin() as writing:
            version = reading.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            writing.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            writing.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
            for table in Base.metadata.sorted_tables:   # parents before children
                rows = [dict(row._mapping) for row in reading.execute(select(table))]
                if rows:
                    writing.execute(insert(table), rows)
    finally:
        source.dispose()
        copy.dispose()
    return target


def db_url_lines(db_url: str | None, indent: str = "") -> list[str]:
    """Config lines that set the course's gradebook URL (or say how to), for a course's nbgrader_config.py."""
    if db_url is None:
        return [f"{indent}# The gradebook: gradebook.db here (nbgrader's default). Any SQLAlchemy URL works, e.g.",
                f"{indent}# c.CourseDirectory.db_url = 'postgresql://grader@dbhost/course'"]
    make_url(db_url)   # raises ArgumentError naming a malformed URL
    return [f"{indent}c.CourseDirectory.db_url = {db_url!r}  # the gradebook"]


def db_url_config(course_root: Path, db_url: str) -> str:
    """A block for a course's nbgrader_config.py that sets the gradebook URL in that folder only.

    `grade` copies the config into a scratch course per submission; there nbgrader must keep
    using the scratch course's own SQLite gradebook, never the course's database.
    """
    folder = str(Path(course_root).resolve())
    return "\n".join(["", "import os", f"if os.path.dirname(os.path.realpath(__file__)) == {folder!r}:",
                      *db_url_lines(db_url, indent="    "), ""])
