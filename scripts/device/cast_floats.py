"""A safetensors checkpoint with its float tensors cast to DTYPE: float16 halves the bytes to
carry to the device machine, float32 widens them back there (for both sides of a comparison).
An input ending in .xz is read through lzma.

    python3 scripts/device/cast_floats.py IN.safetensors[.xz] OUT.safetensors float16|float32
"""
import lzma
import sys

import torch
from safetensors.torch import load, save_file

source, target, dtype = sys.argv[1], sys.argv[2], getattr(torch, sys.argv[3])
with (lzma.open if source.endswith(".xz") else open)(source, "rb") as f:
    tensors = load(f.read())
save_file({k: (v.to(dtype) if v.is_floating_point() else v).contiguous() for k, v in tensors.items()},
          target, metadata={"format": "pt"})
