"""A safetensors checkpoint with its float tensors as fp16, half the bytes to carry to the
device machine (to_fp32.py widens them back there).

    python3 scripts/device/to_fp16.py model.safetensors model.fp16.safetensors
"""
import sys

from safetensors.torch import load_file, save_file

tensors = load_file(sys.argv[1])
save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in tensors.items()},
          sys.argv[2], metadata={"format": "pt"})
