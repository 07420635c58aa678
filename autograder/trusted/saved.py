"""What the reference tests hold for the models a notebook saved: stand-ins that lead to the evaluation process.

The tests of notebooks 6 and 7 grade the models the notebook's own sandboxed run saved.
None of those files is opened in the grader; evaluate.py reads them in a bounded process.

* `SavedModel`: a trained model a test names (notebook 6's `overfit_model`, `net`):
  `loss(X)` returns the scores the evaluation process computed with the reference network.
* `SavedFile`: a test's name for a saved file (notebook 7's `BEST_MODEL_FILE`) leads to the
  grader's copy and prints as the notebook's name for it. Where a test reads one itself,
  its `np.load` gives `SavedParameters` (declared shapes, no data), and a reference
  TwoLayerNet given them as `params` is evaluated in the evaluation process too.
"""
from __future__ import annotations

import types
from collections.abc import Mapping
from pathlib import Path

import numpy

from nn_helpers.cells import SAVED_MODEL_FILES

from .evaluate import MODEL_CLASS, MODEL_NOTEBOOK, evaluate_saved
from .models import MAX_FILE_BYTES, MODEL_KEYS

# Models the training notebooks save in cells tagged `training`: name in the tests -> file.
SAVED_MODELS = {"6_training_cifar10.ipynb": {"overfit_model": "overfit_model.npz", "net": "net.npz"}}
SAVED_FILES = set(SAVED_MODEL_FILES)


def copy_saved_files(saved_dir: Path, target: Path) -> None:
    """The model files the notebook's run saved (regular files only), each cut at just over the size a model may have.

    (A cut file is refused as too large; the grader's disk never holds more than that.)
    """
    for name in SAVED_FILES:
        path = Path(saved_dir) / name
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as source, open(Path(target) / name, "wb") as copy:
                left = MAX_FILE_BYTES + 1
                while left > 0 and (chunk := source.read(min(left, 2 ** 20))):
                    copy.write(chunk)
                    left -= len(chunk)


class SavedModel:
    """A model the notebook trained and saved: its scores come from the evaluation process."""

    def __init__(self, reference_dir: Path, path: Path):
        self._reference_dir, self._path = reference_dir, Path(path)

    def loss(self, X, y=None):
        """Scores of shape (N, C) for the images X, as the reference TwoLayerNet computes them."""
        if y is not None:
            raise TypeError("the grader evaluates a saved model's scores only: loss(X)")
        if not self._path.exists():
            raise FileNotFoundError(f"{self._path.name} was not saved: run the training cell and the cell that saves "
                                    "the model, top to bottom")
        return evaluate_saved(self._reference_dir, self._path, X)[1]

    def __repr__(self):
        return f"<the model saved in {self._path.name}>"


def saved_models(reference: Path, files: Path) -> dict[str, SavedModel]:
    """The trained models the tests of this notebook name, as SavedModels."""
    return {name: SavedModel(reference.parent, files / file) for name, file in SAVED_MODELS.get(reference.name, {}).items()}


class SavedFile(str):
    """The grader's copy of a file the notebook saved: opens the copy, prints as the notebook's name for it."""

    def __new__(cls, path: Path):
        saved = super().__new__(cls, str(path))
        saved.name, saved.path = path.name, path
        return saved

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)

    def __str__(self) -> str:
        return self.name


class SavedParameter:
    """One parameter of a saved model, as its header declares it: shape and dtype, no data."""

    def __init__(self, path: Path, key: str, shape: tuple[int, ...], dtype: str):
        self.path, self.key, self.shape, self.dtype = path, key, tuple(shape), numpy.dtype(dtype)
        self.ndim = len(self.shape)

    def __repr__(self):
        return f"<{self.key} of {self.path.name}: shape {self.shape}, {self.dtype}>"


class SavedParameters(Mapping):
    """What np.load gives a test for a saved model file: W1, b1, W2, b2 as SavedParameters."""

    def __init__(self, reference_dir: Path, path: Path):
        declared, _ = evaluate_saved(reference_dir, path)
        self.parameters = {key: SavedParameter(path, key, *declared[key]) for key in MODEL_KEYS}
        self.files = list(self.parameters)

    def __getitem__(self, key):
        return self.parameters[key]

    def __iter__(self):
        return iter(self.parameters)

    def __len__(self):
        return len(self.parameters)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def close(self):
        pass


class NumpyForTests(types.ModuleType):
    """NumPy as a test holds it when it reads saved models itself: np.load of a SavedFile gives SavedParameters."""

    def __init__(self, reference_dir: Path):
        super().__init__("numpy")
        self._reference_dir = reference_dir

    def __getattr__(self, name):
        return getattr(numpy, name)

    def load(self, file, *args, **kwargs):
        if isinstance(file, SavedFile):
            return SavedParameters(self._reference_dir, file.path)
        return numpy.load(file, *args, **kwargs)


class ReferenceModelClass:
    """The reference TwoLayerNet as a test holds it: a model given SavedParameters is evaluated elsewhere."""

    def __init__(self, cls: type, reference_dir: Path):
        self._cls, self._reference_dir = cls, reference_dir

    def __call__(self, *args, **kwargs):
        return ReferenceModel(self._cls(*args, **kwargs), self._reference_dir)

    def __getattr__(self, name):
        return getattr(self._cls, name)


class ReferenceModel:
    """A reference TwoLayerNet; with SavedParameters of one file as `params`, its scores come from that file."""

    def __init__(self, model, reference_dir: Path):
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_reference_dir", reference_dir)

    def __getattr__(self, name):
        return getattr(self._model, name)

    def __setattr__(self, name, value):
        setattr(self._model, name, value)

    def loss(self, X, y=None):
        params = self._model.params
        saved = [value for value in params.values() if isinstance(value, SavedParameter)] \
            if isinstance(params, Mapping) else []
        if not saved:
            return self._model.loss(X, y)
        if len(saved) != len(params) or len({p.path for p in saved}) != 1 or \
                any(key != value.key for key, value in params.items()) or set(params) != set(MODEL_KEYS):
            raise TypeError("a saved model's parameters must be W1, b1, W2 and b2 of one saved file, under their names")
        return SavedModel(self._reference_dir, saved[0].path).loss(X, y)


def bind_saved_files(namespace: dict, files: Path, reference_dir: Path) -> None:
    """After a reference cell: names of saved model files lead to the grader's copies; if there are any,
    the namespace's NumPy and reference TwoLayerNet read them through the evaluation process."""
    namespace.update({name: SavedFile(Path(files) / value) for name, value in namespace.items()
                      if type(value) is str and value in SAVED_FILES})
    if not any(isinstance(value, SavedFile) for value in namespace.values()):
        return
    for name, value in list(namespace.items()):
        if value is numpy:
            namespace[name] = NumpyForTests(reference_dir)
        elif isinstance(value, type) and value.__name__ == MODEL_CLASS and \
                value.__module__ == f"notebook_{Path(MODEL_NOTEBOOK).stem}":
            namespace[name] = ReferenceModelClass(value, reference_dir)
