# On the GPU machine: the carried fp16 copy of the model back to fp32, for both sides.
import sys, torch
from safetensors.torch import load_file, save_file
t = load_file(sys.argv[1])
save_file({k: (v.float() if v.is_floating_point() else v).contiguous() for k, v in t.items()}, sys.argv[2], metadata={"format": "pt"})
