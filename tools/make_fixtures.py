#!/usr/bin/env python3
"""Reference fixtures made by real PyTorch (Debian's python3-torch), for tests that must not trust our own writer.

Values follow formulas the C# tests recompute:
  w   = arange(12).reshape(3, 4) / 10        float32
  b   = arange(3) * 0.25 - 1                 float64
  h   = arange(5) / 8                        float16
  ids = arange(7)                            int64
state_dict.bin holds them as a plain state dict (torch.save's zip format);
wrapped.pth holds {"state_dict": {...}, "epoch": 3}, as training checkpoints do.
"""
import os
import sys

import torch

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "AdaMerging.Tests", "Fixtures")
state = {
    "w": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 10,
    "b": torch.arange(3, dtype=torch.float64) * 0.25 - 1,
    "h": (torch.arange(5, dtype=torch.float32) / 8).half(),
    "ids": torch.arange(7, dtype=torch.int64),
}
torch.save(state, os.path.join(out, "state_dict.bin"))
torch.save({"state_dict": state, "epoch": 3}, os.path.join(out, "wrapped.pth"))
print("torch", torch.__version__, "wrote", out)
