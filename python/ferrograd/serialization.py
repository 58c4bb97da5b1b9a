"""``ferrograd.save`` / ``ferrograd.load``: state dicts, optimizer states and other nests
of dicts, lists, tuples, numbers and strings, stored as a safetensors file.

Tensors go into the safetensors body under readable names (a module state dict's own keys,
so ``safetensors.numpy.load_file`` and other frameworks read the weights directly); the
structure around them is a JSON document in the header's ``__metadata__["ferrograd"]``.
Loading checks the whole file before returning anything, so a truncated or corrupt file
raises ``SerializationError`` and a model loaded from it is never partly overwritten.

This module also makes Tensors picklable (via numpy), which DataLoader worker processes
and ``copy.deepcopy`` rely on."""

from __future__ import annotations

import copyreg
import json
import math
import os
import struct
from collections import OrderedDict

import numpy as np

from . import _core
from ._core import FerrogradError, Tensor

__all__ = ["SerializationError", "load", "save"]

_FORMAT = "ferrograd.v1"
_DTYPES = {"float32": ("F32", np.float32), "float64": ("F64", np.float64), "int64": ("I64", np.int64), "bool": ("BOOL", np.bool_)}
_FROM_ST = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "BOOL": np.bool_}
_MAX_HEADER = 100 * 1024 * 1024


class SerializationError(FerrogradError):
    """A file that is not a valid ferrograd / safetensors file."""


# ----- pickling -----


def _rebuild_tensor(array, requires_grad):
    t = _core.from_numpy(np.array(array, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _reduce_tensor(t: Tensor):
    if t.requires_grad and not t.is_leaf:
        raise RuntimeError("Can't pickle a non-leaf tensor that requires grad; detach() it first")
    return (_rebuild_tensor, (t.detach().numpy(), t.requires_grad))


copyreg.pickle(Tensor, _reduce_tensor)


# ----- save -----


class _Writer:
    def __init__(self):
        self.tensors = OrderedDict()  # name -> numpy array

    def name(self, path):
        base = ".".join(str(p) for p in path) or "tensor"
        name, i = base, 1
        while name in self.tensors:
            name = f"{base}#{i}"
            i += 1
        return name

    def encode(self, obj, path):
        from .nn.parameter import Parameter

        if isinstance(obj, Tensor):
            if obj.dtype.name not in _DTYPES:
                raise TypeError(f"ferrograd.save: unsupported dtype {obj.dtype}")
            name = self.name(path)
            self.tensors[name] = (obj.dtype.name, np.array(obj.detach().numpy(), order="C"))  # keeps 0-d shapes
            out = {"__tensor__": name}
            if isinstance(obj, Parameter):
                out["parameter"] = True
            if obj.requires_grad:
                out["requires_grad"] = True
            return out
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), path)
        if isinstance(obj, dict):
            items = [[self.encode_key(k), self.encode(v, [*path, k])] for k, v in obj.items()]
            return {"__dict__": items, "ordered": isinstance(obj, OrderedDict)}
        if isinstance(obj, list):
            return {"__list__": [self.encode(v, [*path, i]) for i, v in enumerate(obj)]}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, [*path, i]) for i, v in enumerate(obj)]}
        raise TypeError(
            f"ferrograd.save: cannot store an object of type {type(obj).__name__} "
            "(supported: Tensors, dicts, lists, tuples, numbers, strings, None)"
        )

    def encode_key(self, k):
        if isinstance(k, (str, int, float, bool)) or k is None:
            return k if not isinstance(k, float) or math.isfinite(k) else repr(k)
        if isinstance(k, tuple):
            return {"__tuple__": [self.encode_key(x) for x in k]}
        raise TypeError(f"ferrograd.save: unsupported dict key type {type(k).__name__}")


def save(obj, f) -> None:
    """Writes ``obj`` (a state dict, an optimizer state dict, or a nest of dicts, lists,
    tuples, numbers, strings and Tensors) to the path ``f`` as a safetensors file."""
    w = _Writer()
    doc = {"format": _FORMAT, "root": w.encode(obj, [])}
    header, offset, chunks = {}, 0, []
    for name, (dtype, arr) in w.tensors.items():
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[dtype][0], "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        chunks.append(data)
    header["__metadata__"] = {"ferrograd": json.dumps(doc, separators=(",", ":"))}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # safetensors pads the header to 8 bytes
    path = os.fspath(f)
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)))
        fh.write(raw)
        for c in chunks:
            fh.write(c)
    os.replace(tmp, path)  # never leave a half-written file under the real name


# ----- load -----


def _fail(path, msg):
    raise SerializationError(f"ferrograd.load: {path} is not a valid ferrograd/safetensors file: {msg}")


def _read_tensors(path, blob: bytes):
    if len(blob) < 8:
        _fail(path, f"file is {len(blob)} bytes, too short for a header")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > min(_MAX_HEADER, len(blob) - 8):
        _fail(path, f"header length {n} exceeds the file size ({len(blob)} bytes)")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        _fail(path, f"corrupt JSON header ({e})")
    if not isinstance(header, dict):
        _fail(path, "header is not a JSON object")
    body = memoryview(blob)[8 + n:]
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        _fail(path, "__metadata__ is not an object")
    arrays = {}
    for name, info in header.items():
        try:
            dtype = _FROM_ST[info["dtype"]]
            shape = [int(s) for s in info["shape"]]
            start, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            _fail(path, f"bad entry for tensor {name!r}: {info!r}")
        if any(s < 0 for s in shape):
            _fail(path, f"negative dimension in {name!r}")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        nbytes = count * np.dtype(dtype).itemsize
        if not 0 <= start <= end <= len(body) or end - start != nbytes:
            _fail(path, f"tensor {name!r} with shape {shape} has data offsets [{start}, {end}] that do not fit its "
                        f"{nbytes} bytes or the {len(body)}-byte body (truncated file?)")
        arr = np.frombuffer(body[start:end], dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
        arrays[name] = arr.astype(dtype)  # native order, own memory
    return arrays, meta


def _decode(node, arrays, path):
    from .nn.parameter import Parameter

    if isinstance(node, dict):
        if "__tensor__" in node:
            name = node["__tensor__"]
            if name not in arrays:
                _fail(path, f"structure refers to missing tensor {name!r}")
            t = _core.from_numpy(arrays[name])
            if node.get("parameter"):
                return Parameter(t, bool(node.get("requires_grad", True)))
            if node.get("requires_grad"):
                t.requires_grad_(True)
            return t
        if "__float__" in node:
            return float(node["__float__"])
        if "__dict__" in node:
            cls = OrderedDict if node.get("ordered") else dict
            return cls((_decode_key(k), _decode(v, arrays, path)) for k, v in node["__dict__"])
        if "__list__" in node:
            return [_decode(v, arrays, path) for v in node["__list__"]]
        if "__tuple__" in node:
            return tuple(_decode(v, arrays, path) for v in node["__tuple__"])
        _fail(path, f"unknown structure node {sorted(node)}")
    return node


def _decode_key(k):
    if isinstance(k, dict) and "__tuple__" in k:
        return tuple(_decode_key(x) for x in k["__tuple__"])
    return k


def load(f, map_location=None, weights_only=True):
    """Reads a file written by :func:`save`. A plain safetensors file from elsewhere loads
    as a ``{name: Tensor}`` dict. Raises ``SerializationError`` for corrupt files."""
    if map_location not in (None, "cpu"):
        raise TypeError("ferrograd runs on the CPU only; map_location must be None or 'cpu'")
    path = os.fspath(f)
    with open(path, "rb") as fh:
        blob = fh.read()
    arrays, meta = _read_tensors(path, blob)
    doc = meta.get("ferrograd")
    if doc is None:
        return OrderedDict((k, _core.from_numpy(v)) for k, v in arrays.items())
    try:
        doc = json.loads(doc)
    except json.JSONDecodeError as e:
        _fail(path, f"corrupt ferrograd metadata ({e})")
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        _fail(path, f"unknown format {doc.get('format') if isinstance(doc, dict) else doc!r}")
    try:
        return _decode(doc["root"], arrays, path)
    except SerializationError:
        raise
    except Exception as e:  # malformed structure written by hand or damaged
        _fail(path, f"malformed structure ({type(e).__name__}: {e})")
