"""A throwaway PostgreSQL server for tests: a temporary data folder, run by an unprivileged account.

Needs Debian's `postgresql` (initdb, pg_ctl) and `psycopg[binary]`, SQLAlchemy's PostgreSQL driver (`bash setup.sh`
as root installs both): under CI=true a missing one fails the test, naming what to install.
"""
from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from account_fixtures import make_account, remove_account
from browser_fixtures import free_port

INSTALL = "install Debian's `postgresql` (apt-get install postgresql) and `pip install psycopg[binary]==3.3.9` " \
          "(or run `bash setup.sh` as root)"


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl (on PATH, or Debian's /usr/lib/postgresql/<version>/bin)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
                      if p.parts[-3].isdigit() else 0)
    return versions[-1].parent if versions else None


def require_postgres() -> Path:
    """The PostgreSQL bin folder; fails under CI=true, else skips, when PostgreSQL or psycopg is missing."""
    folder = postgres_bin()
    try:
        import psycopg
    except ImportError:
        psycopg = None
    missing = [name for name, found in (("postgresql", folder), ("psycopg[binary]", psycopg)) if not found]
    if missing:
        why = f"{', '.join(missing)} missing: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return folder


@contextlib.contextmanager
def postgres_server(database: str = "gradebook"):
    """Start PostgreSQL on 127.0.0.1 (password auth) with an empty `database`; yield its SQLAlchemy URL."""
    bin_folder = require_postgres()
    base = Path(tempfile.mkdtemp(prefix="postgres-test-"))
    owner = make_account("kitpg") if os.geteuid() == 0 else getpass.getuser()   # initdb refuses root
    password, port = uuid.uuid4().hex, free_port()
    data, sockets = base / "data", base / "sockets"

    def as_owner(*command):
        prefix = ["runuser", "-u", owner, "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, *map(str, command)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"

    try:
        sockets.mkdir()
        (base / "password").write_text(password)
        shutil.chown(base, owner)
        shutil.chown(sockets, owner)
        shutil.chown(base / "password", owner)
        as_owner(bin_folder / "initdb", "-D", data, "-U", "grader", f"--pwfile={base / 'password'}",
                 "--auth=scram-sha-256", "--encoding=UTF8", "--no-sync")
        as_owner(bin_folder / "pg_ctl", "-D", data, "-l", base / "server.log", "-w", "-t", "60", "-o",
                 f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off", "start")
        import psycopg
        with psycopg.connect(host="127.0.0.1", port=port, user="grader", password=password, dbname="postgres",
                             autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        yield f"postgresql://grader:{password}@127.0.0.1:{port}/{database}"
    finally:
        if (data / "postmaster.pid").exists():
            as_owner(bin_folder / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        if os.geteuid() == 0:
            remove_account(owner)
        shutil.rmtree(base, ignore_errors=True)
