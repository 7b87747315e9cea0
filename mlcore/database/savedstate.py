"""Named states saved in the file (``/states``): JSON scalars plus arrays, bit for bit.

Arrays are stored inside the JSON text as base64 of their raw little-endian bytes with
dtype and shape, so a state (a basin-hopping run's coordinates and random-generator state)
comes back exactly and any reader can decode it with ``json`` and ``numpy.frombuffer``.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Mapping

import numpy as np


def encode_state(scalars: dict, arrays: Mapping[str, np.ndarray]) -> str:
    """JSON text holding ``scalars`` (JSON-safe values) and ``arrays``."""
    packed = {}
    for name, arr in arrays.items():
        a = np.ascontiguousarray(arr)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        packed[str(name)] = {"dtype": a.dtype.str, "shape": list(a.shape),
                             "base64": base64.b64encode(a.tobytes()).decode("ascii")}
    return json.dumps({"scalars": scalars, "arrays": packed}, allow_nan=True)


def decode_state(text: str) -> tuple[dict, dict[str, np.ndarray]]:
    """``(scalars, arrays)`` from the text :func:`encode_state` wrote."""
    obj = json.loads(text)
    arrays = {}
    for name, desc in obj.get("arrays", {}).items():
        raw = base64.b64decode(desc["base64"])
        arrays[name] = np.frombuffer(raw, dtype=np.dtype(desc["dtype"])).reshape(
            desc["shape"]).copy()
    return obj.get("scalars", {}), arrays
