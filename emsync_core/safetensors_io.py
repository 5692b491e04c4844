"""Read the safetensors layout (an 8-byte header length, a JSON header, raw tensor bytes).

The weights loaders decode the bytes themselves: faces with numpy (so the video analysis
never imports torch), the transformer with torch (which has bfloat16). Never pickles.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path


def read_raw(path: str | Path) -> tuple[dict[str, tuple[str, list[int], bytes]], dict[str, str]]:
    """({name: (dtype name such as "F32", shape, little-endian bytes)}, metadata)."""
    blob = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + size])
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        tensors[name] = (info["dtype"], list(info["shape"]), blob[base + start : base + end])
    return tensors, metadata
