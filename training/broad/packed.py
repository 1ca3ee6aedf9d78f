"""The campaign's kept weights in 8 bits: every weight matrix as int8 with one float32 scale per output row
(symmetric, scale = the row's largest |w| / 127), vectors and buffers as float16 or float32. Half the size of
float16, so a fallback fits the campaign's repository budget; not a model directory (molvae loads float weights),
so `unpack` writes one before a run starts from it.

    python training/broad/packed.py pack CHECKPOINT_DIR DEST      # keep.py --int8 calls this
    python training/broad/packed.py unpack SRC DEST               # run.sh calls this on a fresh machine
"""
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

FILE = "model.int8.safetensors"
SCALE = "::row_scale"


def pack(state: dict) -> dict:
    out = {}
    for k, v in state.items():
        v = v.detach().float().cpu()
        if v.dim() >= 2:
            rows = v.reshape(v.shape[0], -1)
            scale = rows.abs().amax(dim=1).clamp_min(1e-12) / 127.0
            out[k] = torch.round(rows / scale[:, None]).to(torch.int8).reshape(v.shape).contiguous()
            out[k + SCALE] = scale.contiguous()
        else:
            out[k] = v.half() if k.split(".")[-1] in ("weight", "bias") else v
    return out


def unpack_state(packed: dict) -> dict:
    state = {}
    for k, v in packed.items():
        if k.endswith(SCALE):
            continue
        if v.dtype == torch.int8:
            scale = packed[k + SCALE]
            state[k] = (v.float().reshape(v.shape[0], -1) * scale[:, None]).reshape(v.shape)
        else:
            state[k] = v.float()
    return state


def write_packed(src_model_dir: Path, dest: Path) -> None:
    """src: a model directory (model.json, model.safetensors); dest gets model.json, MODEL_CARD.md and FILE."""
    dest.mkdir(parents=True, exist_ok=True)
    save_file(pack(load_file(str(src_model_dir / "model.safetensors"))), str(dest / FILE))
    for name in ("model.json", "MODEL_CARD.md"):
        shutil.copy2(src_model_dir / name, dest / name)
    (dest / "model.safetensors").unlink(missing_ok=True)


def unpack(src: Path, dest: Path) -> None:
    """A loadable float32 model directory from packed weights."""
    dest.mkdir(parents=True, exist_ok=True)
    save_file(unpack_state(load_file(str(src / FILE))), str(dest / "model.safetensors"))
    for name in ("model.json", "MODEL_CARD.md"):
        shutil.copy2(src / name, dest / name)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "unpack"):
        sys.exit(__doc__)
    (write_packed if sys.argv[1] == "pack" else unpack)(Path(sys.argv[2]), Path(sys.argv[3]))
