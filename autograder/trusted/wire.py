"""The wire between the grader and the sandboxed worker that runs a student's code.

A frame is an 8-byte length, a JSON header, then the raw bytes of every array the header
describes. Only plain data crosses by value: None, bool, int, float, complex, str, tuples,
lists, dicts, slices, NumPy arrays and scalars of numeric dtype (raw bytes with dtype and
shape), dtypes, and objects of the notebooks' own classes (their class and `__dict__`,
whose attribute names must be plain: never a __special__ name such as __array_interface__).
Anything else (a function, a class, a module) crosses as a handle: a number the other side
can call through. No pickle, no code: a side decodes nothing it did not ask to build.
Every array is built from the frame's bytes; a frame larger than its reader allows (64 MiB
for the grader, which reads the worker's replies) is refused from its header alone.

Lists, dicts, arrays and objects are nodes with ids, so an object graph (a solver holding
the test's model) keeps its shape. A call is one exchange: the request carries the nodes
of its arguments; the worker's reply carries every node of the exchange as it is after the
call, and the caller writes that state back into its own objects (arrays in place when
their shape and dtype did not change), as if the call had run in its own process.
"""
from __future__ import annotations

import json
import math
import socket
import struct
from typing import Any

import numpy as np

MAX_HEADER = 8 * 2 ** 20    # bytes of JSON in one frame (parsed, JSON can take 25 times its size in memory)
MAX_FRAME = 64 * 2 ** 20    # bytes of a whole frame the grader reads (a reply: header and array data)
MAX_REQUEST = 1 * 2 ** 30   # bytes of a whole frame the worker reads (a request of the grader's)
MAX_BLOBS = MAX_REQUEST     # bytes of array data any frame may describe
MAX_BLOB_COUNT = 2 ** 18    # arrays and NumPy scalars in one frame (each costs a view object when read)
NUMERIC_KINDS = "biufc"     # bool, signed and unsigned integers, floats, complex numbers


class WireError(Exception):
    """A frame or value that is not what the protocol allows."""


def send(sock: socket.socket, header: dict, blobs: list[bytes]) -> None:
    header = {**header, "blobs": [len(blob) for blob in blobs]}
    text = json.dumps(header, separators=(",", ":")).encode()
    sock.sendall(b"".join([struct.pack("<Q", len(text)), text, *blobs]))   # one write: calls come by the thousand


def receive(sock: socket.socket, max_frame: int = MAX_FRAME) -> tuple[dict, list[memoryview]]:
    """One frame of at most `max_frame` bytes, header included.

    Raises EOFError when the other side has gone, WireError when the frame is malformed or
    too large; the size is judged from the header, before any array data is read.
    """
    (size,) = struct.unpack("<Q", _read_exactly(sock, 8))
    if size > min(MAX_HEADER, max_frame):
        raise WireError(f"a header of {size} bytes is larger than the {min(MAX_HEADER, max_frame)} allowed")
    try:
        header = json.loads(_read_exactly(sock, size))
    except (ValueError, RecursionError) as error:
        raise WireError(f"the header is not JSON: {error}") from None
    sizes = header.get("blobs") if isinstance(header, dict) else None
    if not isinstance(sizes, list) or len(sizes) > MAX_BLOB_COUNT or \
            not all(type(n) is int and n >= 0 for n in sizes) or sum(sizes) > MAX_BLOBS:
        raise WireError("the header does not list its array data correctly")
    if size + sum(sizes) > max_frame:
        raise WireError(f"a frame of {size + sum(sizes)} bytes is larger than the {max_frame} bytes a frame may hold")
    data, blobs, start = memoryview(_read_exactly(sock, sum(sizes))), [], 0
    for size in sizes:
        blobs.append(data[start:start + size])
        start += size
    return header, blobs


def _read_exactly(sock: socket.socket, size: int) -> bytearray:
    buffer, filled = bytearray(size), 0
    view = memoryview(buffer)
    while filled < size:
        count = sock.recv_into(view[filled:], min(size - filled, 2 ** 24))
        if not count:
            raise EOFError("the other side closed the connection")
        filled += count
    return buffer


class Exchange:
    """The objects of one call, by id, on one side. Ids are positive on the grader's side, negative on the worker's."""

    def __init__(self, sign: int):
        self.sign = sign
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}     # id(object) -> node id
        self.received: dict[int, np.ndarray] = {}   # node id -> a copy of each array as it arrived
        self.count = 0

    def register(self, obj, node_id: int | None = None) -> int:
        if node_id is None:
            self.count += 1
            node_id = self.sign * self.count
        self.objects[node_id] = obj
        self.ids[id(obj)] = node_id
        return node_id


class Codec:
    """Encodes and decodes values for one side; the side's policies are the four hooks."""

    def __init__(self, exchange_sign: int):
        self.sign = exchange_sign
        self.exported: dict[int, Any] = {}       # handle -> own object, for the connection's life
        self.export_ids: dict[int, int] = {}     # id(object) -> handle

    # --- hooks --------------------------------------------------------------------------
    def class_of(self, obj) -> dict | None:
        """A description of obj's class if obj crosses by value (its __dict__), else None."""
        return None

    def new_object(self, description: dict):
        """An empty object of a class description received from the other side."""
        raise WireError("objects are not accepted here")

    def set_state(self, obj, state: dict) -> None:
        obj.__dict__.clear()
        obj.__dict__.update(state)

    def remote(self, handle: int):
        """A local stand-in for the other side's handle."""
        raise WireError("handles are not accepted here")

    def remote_handle(self, obj) -> int | None:
        """The other side's handle when obj is a stand-in for one, else None."""
        return None

    # --- encoding -----------------------------------------------------------------------
    def encode(self, value, exchange: Exchange, nodes: dict, blobs: list) -> Any:
        kind = type(value)
        if value is None or kind in (bool, int, float, str):
            return value
        if kind is tuple:
            return {"$": "tuple", "v": [self.encode(v, exchange, nodes, blobs) for v in value]}
        if kind is complex:
            return {"$": "complex", "v": [value.real, value.imag]}
        if kind is slice:
            return {"$": "slice", "v": [self.encode(v, exchange, nodes, blobs) for v in (value.start, value.stop, value.step)]}
        if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
            blobs.append(np.asarray(value).tobytes())
            return {"$": "scalar", "dtype": value.dtype.str, "b": len(blobs) - 1}
        if isinstance(value, np.dtype) and value.kind in NUMERIC_KINDS:
            return {"$": "dtype", "v": value.str}
        if isinstance(value, type) and issubclass(value, np.generic) and _concrete_numeric(value):
            return {"$": "dtype_type", "v": np.dtype(value).str}
        handle = self.remote_handle(value)
        if handle is not None:
            return {"$": "theirs", "h": handle}
        if id(value) in exchange.ids:
            return {"$": "node", "id": exchange.ids[id(value)]}
        description = self.class_of(value)
        if kind is list or kind is dict or isinstance(value, np.ndarray) or description is not None:
            node_id = exchange.register(value)
            nodes[str(node_id)] = self._node(value, description, exchange, nodes, blobs)
            return {"$": "node", "id": node_id}
        return {"$": "mine", "h": self.export(value)}

    def _node(self, value, description, exchange, nodes, blobs) -> dict:
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in NUMERIC_KINDS:
                raise WireError(f"an array of dtype {value.dtype} cannot be sent: only numbers and booleans")
            blobs.append(np.ascontiguousarray(value).tobytes())
            return {"t": "array", "dtype": value.dtype.str, "shape": list(value.shape), "b": len(blobs) - 1}
        if type(value) is list:
            return {"t": "list", "v": [self.encode(v, exchange, nodes, blobs) for v in value]}
        if type(value) is dict:
            return {"t": "dict", "k": [self.encode(k, exchange, nodes, blobs) for k in value],
                    "v": [self.encode(v, exchange, nodes, blobs) for v in value.values()]}
        state = vars(value)
        refused = next((key for key in state if not _plain_name(key)), None)
        if refused is not None:
            raise WireError(f"an object with an attribute named {refused!r} cannot be sent: only plain names "
                            "(not __special__ ones) cross")
        return {"t": "object", "class": description,
                "k": list(state), "v": [self.encode(v, exchange, nodes, blobs) for v in state.values()]}

    def export(self, obj) -> int:
        if id(obj) not in self.export_ids:
            handle = len(self.exported) + 1
            self.exported[handle] = obj
            self.export_ids[id(obj)] = handle
        return self.export_ids[id(obj)]

    def sync_nodes(self, exchange: Exchange, nodes: dict, blobs: list) -> None:
        """Add the current state of every object of the exchange to `nodes` (a reply's write-back).

        An array that is exactly as it arrived is left out: a missing node means "unchanged".
        """
        for node_id, obj in list(exchange.objects.items()):
            if str(node_id) in nodes or _unchanged(obj, exchange.received.get(node_id)):
                continue
            nodes[str(node_id)] = self._node(obj, self.class_of(obj), exchange, nodes, blobs)

    # --- decoding -----------------------------------------------------------------------
    def decode_nodes(self, nodes: Any, blobs: list[bytes], exchange: Exchange) -> None:
        """Build (or write into) the exchange's objects from received nodes."""
        if not isinstance(nodes, dict):
            raise WireError("nodes must be a mapping")
        fill = []
        for key, node in nodes.items():
            node_id = _int(key)
            if not isinstance(node, dict):
                raise WireError("a node must be a mapping")
            existing = exchange.objects.get(node_id)
            kind = node.get("t")
            if kind == "array":
                received = _array(node, blobs)
                target = self._write_array(existing, received)
                exchange.received[node_id] = received if target is not received else received.copy()
            elif kind == "list":
                target = existing if type(existing) is list else []
            elif kind == "dict":
                target = existing if type(existing) is dict else {}
            elif kind == "object":
                target = existing if existing is not None and self.class_of(existing) is not None \
                    else self.new_object(node.get("class"))
            else:
                raise WireError(f"unknown node type {kind!r}")
            exchange.register(target, node_id)
            if kind != "array":
                fill.append((target, node))
        for target, node in fill:
            values = [self.decode(v, exchange, blobs) for v in _list(node.get("v"))]
            if node["t"] == "list":
                target[:] = values
                continue
            keys = [self.decode(k, exchange, blobs) for k in _list(node.get("k"))]
            if len(keys) != len(values):
                raise WireError("a mapping's keys and values differ in number")
            if node["t"] == "dict":
                try:
                    pairs = dict(zip(keys, values))
                except TypeError as error:
                    raise WireError(f"a dict key cannot be used: {error}") from None
                target.clear()
                target.update(pairs)
            else:
                refused = next((k for k in keys if not _plain_name(k)), None)
                if refused is not None:
                    raise WireError(f"attribute name {refused!r} refused: attribute names must be plain strings, "
                                    "never __special__ names such as __array_interface__")
                self.set_state(target, dict(zip(keys, values)))

    @staticmethod
    def _write_array(existing, received: np.ndarray) -> np.ndarray:
        if isinstance(existing, np.ndarray) and existing.shape == received.shape and \
                existing.dtype == received.dtype and existing.flags.writeable:
            existing[...] = received
            return existing
        return received

    def decode(self, value, exchange: Exchange, blobs: list[bytes]) -> Any:
        kind = type(value)
        if value is None or kind in (bool, int, float, str):
            return value
        if kind is not dict:
            raise WireError(f"unexpected JSON value of type {kind.__name__}")
        tag, body = value.get("$"), value.get("v")
        if tag == "tuple":
            return tuple(self.decode(v, exchange, blobs) for v in _list(body))
        if tag == "complex":
            real, imag = _list(body, 2)
            return complex(_number(real), _number(imag))
        if tag == "slice":
            return slice(*(self.decode(v, exchange, blobs) for v in _list(body, 3)))
        if tag == "scalar":
            array = _array({"dtype": value.get("dtype"), "shape": [], "b": value.get("b")}, blobs)
            return array[()]
        if tag == "dtype":
            return _dtype(body)
        if tag == "dtype_type":
            return _dtype(body).type
        if tag == "node":
            node_id = _int(value.get("id"))
            if node_id not in exchange.objects:
                raise WireError(f"no object {node_id} in this exchange")
            return exchange.objects[node_id]
        if tag == "theirs":   # a handle of ours, coming back
            handle = _int(value.get("h"))
            if handle not in self.exported:
                raise WireError(f"no handle {handle} here")
            return self.exported[handle]
        if tag == "mine":     # the other side's handle
            return self.remote(_int(value.get("h")))
        raise WireError(f"unknown value tag {tag!r}")

    # --- whole messages -----------------------------------------------------------------
    def pack(self, header: dict, values: dict[str, Any], exchange: Exchange,
             sync: bool = False) -> tuple[dict, list[bytes]]:
        """A frame's header and blobs: `header` plus `values` encoded (and every node, if `sync`)."""
        nodes, blobs = {}, []
        encoded = {name: self.encode(value, exchange, nodes, blobs) for name, value in values.items()}
        if sync:
            self.sync_nodes(exchange, nodes, blobs)
        return {**header, "values": encoded, "nodes": nodes}, blobs

    def unpack(self, header: dict, blobs: list[bytes], exchange: Exchange) -> dict[str, Any]:
        """The values of a received frame, after writing its nodes into the exchange."""
        self.decode_nodes(header.get("nodes", {}), blobs, exchange)
        values = header.get("values", {})
        if not isinstance(values, dict):
            raise WireError("values must be a mapping")
        return {name: self.decode(value, exchange, blobs) for name, value in values.items()}


def _plain_name(key) -> bool:
    """An attribute name that may cross: a string not starting with "__".

    Python and NumPy look up __special__ names on objects (__array_interface__ makes
    np.asarray read memory at an address the object names): none may come from the worker.
    """
    return type(key) is str and not key.startswith("__")


def _int(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise WireError(f"{value!r} is not an id") from None
    return number


def _number(value) -> float:
    if type(value) not in (int, float):
        raise WireError(f"{value!r} is not a number")
    return value


def _list(value, length: int | None = None) -> list:
    if type(value) is not list or (length is not None and len(value) != length):
        raise WireError("a malformed list")
    return value


def _dtype(text) -> np.dtype:
    if type(text) is not str:
        raise WireError("a dtype must be a string")
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError, SyntaxError):
        raise WireError(f"{text!r} is not a dtype") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"dtype {text!r} is not a plain numeric dtype")
    return dtype


def _array(node: dict, blobs: list[bytes]) -> np.ndarray:
    dtype, shape = _dtype(node.get("dtype")), node.get("shape")
    if type(shape) is not list or not all(type(n) is int and 0 <= n <= MAX_BLOBS for n in shape) or len(shape) > 32:
        raise WireError("an array shape must be a list of sizes")
    index = node.get("b")
    if type(index) is not int or not 0 <= index < len(blobs):
        raise WireError("an array refers to missing data")
    data = blobs[index]
    if len(data) != dtype.itemsize * math.prod(shape):
        raise WireError(f"{len(data)} bytes cannot be an array of shape {tuple(shape)} and dtype {dtype}")
    try:
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    except ValueError as error:   # e.g. an empty array of absurd dimensions
        raise WireError(f"not an array of shape {tuple(shape)}: {error}") from None


def _unchanged(obj, received: np.ndarray | None) -> bool:
    return received is not None and isinstance(obj, np.ndarray) and obj.shape == received.shape \
        and obj.dtype == received.dtype and np.array_equal(obj, received, equal_nan=obj.dtype.kind in "fc")


def _concrete_numeric(scalar_type: type) -> bool:
    """np.float32 is a dtype; np.floating (abstract) is not, and crosses as a handle."""
    try:
        return np.dtype(scalar_type).kind in NUMERIC_KINDS
    except TypeError:
        return False

