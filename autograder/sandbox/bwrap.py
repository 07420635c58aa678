"""The command line that starts one command in a bubblewrap sandbox built from an allow-list.

The sandbox sees only what is bound into an empty root:

- read-only: the system's /usr (and /bin, /sbin, /lib* as the host has them), the few
  files of /etc that the dynamic loader, name lookups and fontconfig read (SYSTEM_ETC), this Python
  (sys.base_prefix) and its virtual environment (sys.prefix), the other folders it imports
  from (a .pth file's or PYTHONPATH's, and where their links lead: `import_folders`), the
  kit's own code (KIT_CODE: never its solutions/ or .git), and the caller's `visible` folders;
- read-write: the scratch folder;
- fresh: /tmp and /dev/shm (private tmpfs), /proc of its own pid namespace, a minimal /dev.

Anything of the kit that must stay private (KIT_PRIVATE) is covered again should a
`visible` folder hold it. New pid, network (loopback only, brought up by bwrap), ipc,
uts and cgroup namespaces; the sandbox dies with its caller (--die-with-parent), and the
command runs in a session of its own with no capabilities and no_new_privs.

The uid: run as root, bwrap needs no user namespace, and setpriv switches the command to
`uid` (its own, so that the process cap counts only its processes) with no groups and an
empty capability bounding set. Run as an ordinary user, bwrap makes a user namespace and
the command runs as that user (who owns the scratch folder already). The command changes
to its folder itself: bwrap's own process, run as root without capabilities, could not.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..course import ROOT

SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
MIN_VERSION = (0, 8)
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/hosts",
              "/etc/nsswitch.conf", "/etc/fonts")
KIT_CODE = ("autograder", "nn_helpers")
# Kernel settings that forbid unprivileged user namespaces: (setting, the forbidding value, the fix)
USERNS_SETTINGS = (("kernel.unprivileged_userns_clone", "0", "1"), ("user.max_user_namespaces", "0", "15000"),
                   ("kernel.apparmor_restrict_unprivileged_userns", "1", "0"))
KIT_PRIVATE = ("solutions", ".git", "gradebook.db", "submitted", "autograded", "feedback", "grading", "exports",
               "feedback_html", "reports", "source")


def tool(name: str) -> str:
    """The absolute path of a system tool, so that the command's PATH cannot matter."""
    path = shutil.which(name, path=SYSTEM_PATH)
    if path is None:
        raise RuntimeError(f"the sandbox could not be set up: {name} not found")
    return path


def missing(proc_sys: Path = Path("/proc/sys")) -> str | None:
    """What this machine lacks for bubblewrap sandboxes, and how to fix it; None if nothing.

    Run as an ordinary user, bwrap needs unprivileged user namespaces: the kernel settings
    under `proc_sys` that can forbid them are read.
    """
    bwrap = shutil.which("bwrap", path=SYSTEM_PATH)
    if bwrap is None:
        return "bubblewrap is not installed: `apt-get install bubblewrap` (or your distribution's bubblewrap package)"
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.split()[-1:]
    if tuple(int(part) for part in (version or ["0"])[0].split(".")[:2] if part.isdigit()) < MIN_VERSION:
        return (f"bubblewrap {version[0] if version else '(unknown version)'} is too old: the sandbox needs "
                f"{'.'.join(map(str, MIN_VERSION))} or newer (--size, --perms for tmpfs, --disable-userns), "
                "as in Debian 12 or Ubuntu 24.04")
    tools = [name for name in ("prlimit", "setpriv") if shutil.which(name, path=SYSTEM_PATH) is None]
    if tools:
        return f"{' and '.join(tools)} not found: `apt-get install util-linux`"
    if os.geteuid() == 0:
        return None
    for key, forbidding, fix in USERNS_SETTINGS:
        path = proc_sys / key.replace(".", "/")
        if path.exists() and path.read_text().strip() == forbidding:
            return (f"unprivileged user namespaces are disabled ({key} = {forbidding}): `sysctl {key}={fix}` as root "
                    "(or run the grader as root)")
    return None


def bwrap_command(command: list[str], scratch: Path, size: int, visible=(), uid: int | None = None,
                  info_fd: int | None = None, block_fd: int | None = None) -> list[str]:
    """bwrap's argv for `command` with `scratch` (resolved) bound; `size` bytes per tmpfs; `uid` when run as root.

    bwrap writes the pid of its process 1 to `info_fd`, and with `block_fd` waits for a
    byte there before it starts the command; it closes both.
    """
    argv = [tool("bwrap"), "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for option, fd in (("--info-fd", info_fd), ("--block-fd", block_fd)):
        if fd is not None:
            argv += [option, str(fd)]
    if uid is None:
        argv += ["--unshare-user", "--disable-userns"]
    else:   # what setpriv needs to switch to uid, and nothing else; it drops them with the switch
        argv += [arg for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP") for arg in ("--cap-add", cap)]
    argv += [*_mounts(scratch, size, visible), "--"]
    if uid is not None:
        argv += [tool("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                 "--inh-caps=-all", "--bounding-set=-all", "--"]
    return argv + command


def _mounts(scratch: Path, size: int, visible) -> list[str]:
    args = []
    for path in SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--perms", "0755", "--dir", "/etc"]   # bwrap run as root would make it 0700
    args += [arg for path in SYSTEM_ETC if os.path.exists(path) for arg in ("--ro-bind", path, path)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for folder in ("/tmp", "/dev/shm"):
        args += ["--perms", "1777", "--size", str(size), "--tmpfs", folder]
    made = {Path("/"), Path("/etc"), Path("/tmp"), Path("/dev"), Path("/dev/shm"), Path("/proc"), *map(Path, SYSTEM)}
    binds = _binds(scratch, visible)
    for source, target, writable in binds:
        for folder in reversed(target.parents):
            if folder not in made and not any(folder.is_relative_to(t) for _, t, _ in binds if t != target):
                args += ["--perms", "0755", "--dir", str(folder)]
            made.add(folder)
        args += ["--bind" if writable else "--ro-bind", str(source), str(target)]
    return args + _covers(binds)


def _binds(scratch: Path, visible) -> list[tuple[Path, Path, bool]]:
    """(source, target, writable) for each folder bound in, parents before what they hold.

    Each folder is bound at its real path. One named through a symbolic link (a venv's
    `.venv`, a dataset's link) is bound at the name too, unless a bound folder holds the
    link itself, which then leads to the real path.
    """
    wanted = [(Path(sys.base_prefix), False), (Path(sys.prefix), False), *((path, False) for path in import_folders()),
              *((ROOT / name, False) for name in KIT_CODE), *((Path(path), False) for path in visible),
              (scratch, True)]
    system = [Path(folder) for folder in SYSTEM if os.path.isdir(folder) and not os.path.islink(folder)]
    real = sorted({(path.resolve(), path.resolve(), writable) for path, writable in wanted
                   if path.resolve().exists() and not any(path.resolve().is_relative_to(s) for s in system)},
                  key=lambda bind: (len(bind[1].parts), str(bind[1])))
    named = [(path.resolve(), Path(os.path.abspath(path)), writable) for path, writable in wanted
             if Path(os.path.abspath(path)) != path.resolve() and path.resolve().exists()]
    binds: list[tuple[Path, Path, bool]] = []
    for source, target, writable in real + [bind for bind in named
                                             if not any(bind[1].is_relative_to(t) for _, t, _ in real)]:
        if not any(target.is_relative_to(t) and s / target.relative_to(t) == source and w == writable
                   for s, t, w in binds):
            binds.append((source, target, writable))
    return sorted(binds, key=lambda bind: len(bind[1].parts))


def import_folders(path: list[str] | None = None) -> list[Path]:
    """The folders on sys.path (`path`), and the folders their links lead to, that may be shown to a submission.

    A folder that holds the kit, the current folder (a course) or the home folder is never one:
    the kit's code is bound by name, and a course's files are the caller's to show.
    """
    withheld = [ROOT.resolve(), Path.cwd().resolve(), Path.home().resolve()]
    found: list[Path] = []

    def add(folder: Path) -> None:
        if folder.is_dir() and folder not in found and not any(w.is_relative_to(folder) for w in withheld):
            found.append(folder)

    for entry in sys.path if path is None else path:
        if not entry or not os.path.isdir(entry):
            continue
        add(Path(entry).resolve())
        try:
            links = [child for child in os.scandir(entry) if child.is_symlink()]
        except OSError:
            continue
        for link in links:   # a site folder made of links (a shared environment's view)
            add(Path(link.path).resolve().parent)
    return found


def _covers(binds: list[tuple[Path, Path, bool]]) -> list[str]:
    """Empty read-only mounts over the kit's private parts wherever a bound folder holds them."""
    args = []
    for name in KIT_PRIVATE:
        private = (ROOT / name).resolve()
        for source, target, _ in binds:
            if private.exists() and private.is_relative_to(source):
                where = str(target / private.relative_to(source))
                args += (["--tmpfs", where, "--remount-ro", where] if private.is_dir()
                         else ["--ro-bind", "/dev/null", where])
    return args
