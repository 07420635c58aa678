"""What the reference tests hold in place of the student's code: proxies, and the student's exceptions.

`RemoteName` stands for each name an answer cell defines, `RemoteHandle` for the worker's
functions and classes, `RemoteInstance` for objects of the student's classes (their
attributes are plain data here, their methods run in the worker). `GraderCodec` is the
grader's side of wire.py: objects the worker creates are always the student's, never an
instance of a grader class. Exceptions come back as `RemoteError`s that are also the
builtin they were (so `except ValueError` works in a test).
"""
from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from .wire import Codec, WireError

if TYPE_CHECKING:
    from .session import Session

TEST_MODULE = "grader_tests"   # __name__ of the namespace the reference cells run in


class RemoteError(Exception):
    """An exception the student's code raised in the worker (its class also is the builtin it was)."""
    where = ""
    message = ""

    def __str__(self):
        return self.message


_ERROR_CLASSES: dict[tuple, type] = {}


def remote_error(description) -> RemoteError:
    """A raisable copy of a worker's exception: same name, same builtin base (ValueError, KeyError, ...)."""
    description = description if isinstance(description, dict) else {}
    name = str(description.get("type", "Error"))[:100]
    bases = [getattr(builtins, base) for base in description.get("bases", []) if isinstance(base, str)
             and isinstance(getattr(builtins, base, None), type) and issubclass(getattr(builtins, base), Exception)]
    base = bases[0] if bases else Exception
    if (name, base) not in _ERROR_CLASSES:
        try:
            _ERROR_CLASSES[(name, base)] = type(name, (RemoteError, base), {})
        except TypeError:   # a builtin that cannot be combined (layout conflict)
            _ERROR_CLASSES[(name, base)] = type(name, (RemoteError,), {})
    error = _ERROR_CLASSES[(name, base)]()
    error.message = str(description.get("message", ""))[:4000]
    error.where = str(description.get("where", ""))[:500]
    return error


class RemoteHandle:
    """A function or class of the student's, living in the worker."""

    def __init__(self, session: Session, handle: int):
        self._session, self._handle = session, handle

    def __call__(self, *args, **kwargs):
        return self._session.request("call", target=self, args=args, kwargs=kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._session.request("getattr", target=self, name=name)


class RemoteName(RemoteHandle):
    """A name an answer cell defines, looked up in the worker on first use."""

    def __init__(self, session: Session, name: str):
        super().__init__(session, 0)
        self._name = name
        self._worker = None   # the connection the handle belongs to: a restarted worker numbers its handles anew

    def _resolve(self):
        if not self._handle or self._worker is not self._session.sock:
            self._handle = 0
            value = self._session.request("lookup", name=self._name)
            if not isinstance(value, RemoteHandle):
                return value
            self._handle, self._worker = value._handle, self._session.sock
        return self

    def __call__(self, *args, **kwargs):
        target = self._resolve()
        return target(*args, **kwargs) if target is not self else super().__call__(*args, **kwargs)

    def __getattr__(self, name):
        target = self._resolve()
        return getattr(target, name) if target is not self else super().__getattr__(name)


class RemoteInstance:
    """An object of a student's class: its attributes are here (data), its methods run in the worker."""
    _session: Session
    _class_handle: int

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return RemoteMethod(self, name)

    def __repr__(self):
        return f"<{type(self).__name__} object of the student's code>"


class RemoteMethod:
    def __init__(self, instance: RemoteInstance, name: str):
        self.instance, self.name = instance, name

    def __call__(self, *args, **kwargs):
        return self.instance._session.request("call_method", target=self.instance, name=self.name,
                                              args=args, kwargs=kwargs)


class GraderCodec(Codec):
    def __init__(self, session: Session):
        super().__init__(exchange_sign=+1)
        self.session = session
        self.instance_classes: dict[int, type] = {}

    def class_of(self, obj) -> dict | None:
        if isinstance(obj, RemoteInstance):
            return {"h": obj._class_handle, "name": type(obj).__name__}
        if not isinstance(obj, type) and type(obj).__module__ == TEST_MODULE and hasattr(obj, "__dict__") \
                and not callable(obj):
            return {"name": type(obj).__name__}
        return None

    def new_object(self, description):
        """Objects the worker creates are always the student's: never an instance of a grader class."""
        if not isinstance(description, dict) or type(description.get("h")) is not int:
            raise WireError("an object must name its class by handle")
        handle = description["h"]
        if handle not in self.instance_classes:
            name = description.get("name") if isinstance(description.get("name"), str) else "object"
            self.instance_classes[handle] = type(name[:100] or "object", (RemoteInstance,),
                                                 {"_session": self.session, "_class_handle": handle})
        return object.__new__(self.instance_classes[handle])

    def set_state(self, obj, state: dict) -> None:
        if not isinstance(obj, RemoteInstance):   # a test's own object: data only, no method shadowed
            shadowing = [key for key in state if hasattr(type(obj), key)]
            if shadowing:
                raise WireError(f"the worker tried to replace {shadowing[0]!r} of a test's {type(obj).__name__}")
        super().set_state(obj, state)

    def remote(self, handle: int):
        return RemoteHandle(self.session, handle)

    def remote_handle(self, obj) -> int | None:
        if isinstance(obj, RemoteName):
            obj._resolve()
        return obj._handle if isinstance(obj, RemoteHandle) and obj._handle else None
