"""Can sandboxes be made on this machine? If not, what is missing and how to fix it."""
from __future__ import annotations

import tempfile
from pathlib import Path

from .bwrap import missing
from .limits import SandboxLimits
from .runner import Sandbox


def sandbox_unavailable() -> str | None:
    """None when sandboxes can be made here; otherwise what is missing and what to do."""
    if why := missing():
        return why
    with tempfile.TemporaryDirectory(prefix="sandbox-check-") as scratch:
        try:
            run = Sandbox(["true"], Path(scratch), SandboxLimits(cpu_seconds=30)).start().wait()
        except RuntimeError as error:
            return (f"{error} (inside a container? It must allow user namespaces, or run the grader as root "
                    "in a container that may make namespaces)")
    if run.returncode != 0:
        return f"a trial sandboxed `true` failed ({run.stopped or run.returncode}): {run.output.strip()[-300:]}"
    return None
