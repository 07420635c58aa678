"""Saved models are read and evaluated in a process of their own, bounded, never in the grader's.

    python -P -m autograder.trusted.evaluate REFERENCE_DIR MODEL [INPUTS SCORES]

The child checks MODEL's headers (models.py), and with INPUTS (an .npy of images the grader
wrote) loads it into the reference TwoLayerNet of REFERENCE_DIR and writes the scores to
SCORES. It prints one JSON line: the declared shapes, or why the file was refused. It runs
under an address-space cap, a CPU-time limit and a wall-clock limit, with one BLAS thread;
it runs only the kit's code, over the student's numbers. `evaluate_saved` is the grader's end.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.trusted.models import MODEL_KEYS, ModelRefused, check_model_file, load_checked

ROOT = Path(__file__).resolve().parent.parent.parent   # the kit (course.py is not imported: the child stays small)
MODEL_NOTEBOOK, MODEL_CLASS = "4_two_layer_net.ipynb", "TwoLayerNet"


@dataclass(frozen=True)
class EvaluationLimits:
    """What evaluating one saved model may use."""
    memory_bytes: int = 3 * 2 ** 30   # address space of the child (NumPy and the largest model fit in 1 GiB)
    cpu_seconds: int = 60             # whole seconds: RLIMIT_CPU counts no less
    wall_seconds: float = 120.0

    def __post_init__(self):
        if not isinstance(self.cpu_seconds, int) or self.cpu_seconds < 1:
            raise ValueError(f"cpu_seconds must be a whole number of seconds, at least 1 (got {self.cpu_seconds!r})")


class SavedModelError(ValueError):
    """A saved model that was refused, or could not be evaluated within its limits."""


def evaluate_saved(reference_dir: Path, model: Path, inputs: np.ndarray | None = None,
                   limits: EvaluationLimits = EvaluationLimits()) -> tuple[dict, np.ndarray | None]:
    """The declared {key: (shape, dtype)} of a saved model, and its scores for `inputs` (if given), from the child.

    Raises SavedModelError with the reason when the file is refused or the child fails.
    """
    with tempfile.TemporaryDirectory(prefix="evaluate-") as scratch:
        command = [sys.executable, "-P", "-m", "autograder.trusted.evaluate", str(Path(reference_dir).resolve()),
                   str(Path(model).resolve())]
        if inputs is not None:
            np.save(Path(scratch) / "inputs.npy", np.asarray(inputs), allow_pickle=False)
            command += [str(Path(scratch) / "inputs.npy"), str(Path(scratch) / "scores.npy")]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT),
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

        def bound():   # in the child, before Python starts
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))

        try:
            run = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True,
                                 timeout=limits.wall_seconds, preexec_fn=bound)
        except subprocess.TimeoutExpired:
            raise SavedModelError(f"evaluating {Path(model).name} ran past {limits.wall_seconds:g} s and was stopped") \
                from None
        reply = _reply(run, Path(model).name, limits)
        if "refused" in reply:
            raise SavedModelError(str(reply["refused"])[:1000])
        declared = {key: (tuple(shape), dtype) for key, (shape, dtype) in reply["shapes"].items()}
        scores = np.load(Path(scratch) / "scores.npy", allow_pickle=False) if inputs is not None else None
    return declared, scores


def _reply(run: subprocess.CompletedProcess, name: str, limits: EvaluationLimits) -> dict:
    if run.returncode == 0:
        return json.loads(run.stdout.strip().splitlines()[-1])
    if "MemoryError" in run.stderr:
        why = f"ran out of its {limits.memory_bytes / 2 ** 30:.2g} GiB of memory"
    elif run.returncode in (-9, -24):   # SIGKILL, SIGXCPU: the CPU-time limit
        why = f"ran past its {limits.cpu_seconds} s of CPU time"
    else:
        why = f"failed (exit code {run.returncode}): " + " | ".join(run.stderr.strip().splitlines()[-2:])[-300:]
    raise SavedModelError(f"evaluating {name} {why}")


def main(argv: list[str]) -> int:
    reference_dir, model, *rest = argv
    try:
        declared = check_model_file(Path(model))
    except ModelRefused as error:
        print(json.dumps({"refused": str(error)}))
        return 0
    if rest:
        inputs, scores = rest
        images = np.load(inputs, allow_pickle=False)
        params = load_checked(Path(model))
        from nn_helpers.notebook_import import load_from_notebook
        os.chdir(reference_dir)   # the reference notebook loads its neighbours by name
        network = load_from_notebook(MODEL_NOTEBOOK, MODEL_CLASS)(
            input_dim=declared["W1"][0][0], hidden_dim=declared["W1"][0][1], num_classes=declared["W2"][0][1])
        network.params = params
        np.save(scores, np.asarray(network.loss(images), dtype=np.float64), allow_pickle=False)
    print(json.dumps({"shapes": {key: [list(declared[key][0]), declared[key][1]] for key in MODEL_KEYS}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
