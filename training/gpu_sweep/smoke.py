"""GPU smoke test before a sweep: the 3-layer model trains a few steps under bf16 autocast and decodes on CUDA.

Prints ms per training step at two batch sizes; exits non-zero if CUDA, autocast or decoding fails."""
import sys
import time

import torch

from molvae.model import VAE, ModelConfig, kl_loss

dev = torch.device("cuda")
print(torch.__version__, torch.cuda.get_device_name(dev), flush=True)
model = VAE(ModelConfig(vocab_size=110, max_len=80, dec_layers=3)).to(dev)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for bs in (512, 1024):
    x = torch.randint(3, 110, (bs, 40), device=dev)
    x[:, -1] = 2
    lengths = torch.full((bs,), 40, device=dev)
    for i in range(25):
        if i == 5:
            torch.cuda.synchronize()
            t = time.time()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            nll, kl, _ = model(x, lengths)
            loss = nll.float().mean() + 0.1 * kl_loss(kl.float(), 0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.cuda.synchronize()
    ms = (time.time() - t) / 20 * 1000
    print(f"batch {bs}: {ms:.1f} ms/step, {bs / ms * 1000:.0f} molecules/s (one process), loss {loss.item():.2f}",
          flush=True)
ids, ll = model.eval().generate(torch.randn(256, 64, device=dev), generator=torch.Generator(device=dev).manual_seed(0))
print("generate ok", tuple(ids.shape), flush=True)
sys.exit(0 if torch.isfinite(loss) else 1)
