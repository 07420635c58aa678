"""A JupyterLab server and a headless Chromium driven by Selenium, for tests of what the pages show.

Needs Debian's `chromium` and `chromium-driver` and the pinned `selenium` (`bash setup.sh`
as root installs them): under CI=true a missing one fails the test, naming what to install.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

INSTALL = "install them with `apt-get install chromium chromium-driver` and `pip install selenium==4.50.0` " \
          "(or run `bash setup.sh` as root)"


def require_browser() -> tuple[str, str]:
    """(chromium, chromedriver) paths; fails under CI=true, else skips, when one is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        selenium = None
    missing = [name for name, found in (("chromium", browser), ("chromium-driver", driver), ("selenium", selenium))
               if not found]
    if missing:
        why = f"{', '.join(missing)} missing: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return browser, driver


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyter_labs(starts: dict[str, tuple[list[str], Path, dict]], logs: Path, startup: float = 300):
    """Start JupyterLabs side by side on 127.0.0.1 (name -> command without server options, folder,
    environment); yield name -> (base url, token) once all answer."""
    servers, urls = {}, {}
    options = ["--no-browser", "--ServerApp.ip=127.0.0.1", "--allow-root", "--LabApp.expose_app_in_browser=True",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    try:
        for name, (command, cwd, env) in starts.items():
            port, token = free_port(), uuid.uuid4().hex
            with open(logs / f"{name}.log", "w") as output:
                servers[name] = subprocess.Popen(
                    [*command, *options, f"--ServerApp.port={port}", f"--IdentityProvider.token={token}"],
                    cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
            urls[name] = (f"http://127.0.0.1:{port}", token)
        deadline = time.monotonic() + startup
        for name, (url, token) in urls.items():
            while not _answers(f"{url}/api/status?token={token}"):
                if servers[name].poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"JupyterLab {name} did not start ({servers[name].returncode}):\n"
                                         f"{(logs / f'{name}.log').read_text()[-3000:]}")
                time.sleep(1)
        yield urls
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5)
        return True
    except OSError:
        return False


@contextlib.contextmanager
def chromium(profile: Path):
    """A headless Chromium (fresh profile, no network chatter) under Selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = require_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def python_env() -> dict:
    """This interpreter's environment with its tools first on PATH."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
