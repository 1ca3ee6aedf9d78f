"""Training and sampling throughput of molvae vs a re-implementation of the MOSES VAE at its published
defaults, measured in one run on this machine (issue 7).

Baseline (written here from the MOSES paper and its documented defaults, not from its code): character-level
SMILES, one-hot inputs (an embedding initialised to the identity), a 1-layer unidirectional GRU 256 encoder over
packed sequences, z = 128, a 3-layer GRU 512 decoder fed z at every step, batch 512 of randomly drawn
molecules padded to the longest, Adam 3e-4; sampling is multinomial to max_len 100 with no early stop.

molvae, training: `molvae train` itself for one epoch on the same molecules, with its defaults (`--preset
default`: the bundled default model's recipe, a 3-layer GRU 512 decoder as the baseline's, batches of 512) and
with `--preset fast` (2-layer GRU 384 decoder, batches of 1,024, property head); its own molecules/s record.
The baseline's rate is over all its batches too, the first included.

Sampling, like with like: both in batches of 1,024, z ~ N(0, I), tokens drawn from the softmax; the baseline
also at MOSES's own sampling default (scripts/sample.py: batches of 32, max_len 100, no early stop). molvae's
valid molecules/s are counted (SELFIES decoding and the RDKit check included) with one process and with
`--workers` = all cores (decoding in worker processes while the GRU runs), for the two bundled models in float32
and with `--int8`; the baseline has no trained weights here, so its valid molecules/s are its sequences/s times
its published validity (0.9767).

    python benchmarks/speed_vs_moses_vae.py

Writes benchmarks/results/speed_vs_moses_vae.json (every rate, with the provenance fields of
benchmarks/provenance.py for both bundled models) and, from it, speed_vs_moses_vae.md.
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from molvae.io import tables
from molvae.api import MolVAE
from molvae.train import read_metrics
from provenance import markdown_line, record, save

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = {"default": "moses", "fast": "fast"}  # the rows named "default" measure the MOSES model (the default when measured)
MOSES_VAE_VALIDITY = 0.9767


class MosesVAE(nn.Module):
    def __init__(self, n_vocab: int, pad: int):
        super().__init__()
        self.pad = pad
        self.emb = nn.Embedding(n_vocab, n_vocab, padding_idx=pad)
        self.emb.weight.data.copy_(torch.eye(n_vocab))
        self.enc = nn.GRU(n_vocab, 256, batch_first=True)
        self.q_mu, self.q_logvar = nn.Linear(256, 128), nn.Linear(256, 128)
        self.dec = nn.GRU(n_vocab + 128, 512, num_layers=3, batch_first=True)
        self.lat = nn.Linear(128, 512)
        self.fc = nn.Linear(512, n_vocab)

    def forward(self, seqs: list[torch.Tensor]):
        packed = nn.utils.rnn.pack_sequence([self.emb(s) for s in seqs], enforce_sorted=False)
        _, h = self.enc(packed)
        mu, logvar = self.q_mu(h[-1]), self.q_logvar(h[-1])
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        kl = 0.5 * (logvar.exp() + mu**2 - 1 - logvar).sum(1).mean()
        x = nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=self.pad)
        inp = torch.cat([self.emb(x), z[:, None].expand(-1, x.shape[1], -1)], -1)
        out, _ = self.dec(inp, self.lat(z)[None].repeat(3, 1, 1))
        y = self.fc(out)
        rec = F.cross_entropy(y[:, :-1].reshape(-1, y.shape[-1]), x[:, 1:].reshape(-1), ignore_index=self.pad)
        return rec + 0.05 * kl

    @torch.no_grad()
    def sample(self, n: int, bos: int, max_len: int = 100):
        z = torch.randn(n, 128)
        h = self.lat(z)[None].repeat(3, 1, 1)
        tok = torch.full((n,), bos, dtype=torch.long)
        out = []
        for _ in range(max_len):  # no early stop, as in MOSES
            o, h = self.dec(torch.cat([self.emb(tok), z], -1)[:, None], h)
            tok = torch.multinomial(F.softmax(self.fc(o[:, 0]), -1), 1)[:, 0]
            out.append(tok)
        return torch.stack(out, 1)


def time_steps(step, batches):
    """Molecules/s over all the batches, the first included (as `molvae train` reports an epoch's rate)."""
    t, n = time.time(), 0
    for b in batches:
        n += step(b)
    return n / (time.time() - t)


def train_rate(smiles: list, preset: str) -> float:
    """Molecules/s of one epoch of `molvae train --preset P` (its own record in metrics.jsonl: the epoch's
    training molecules over its training time, validation excluded)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "train.csv"
        src.write_text("SMILES\n" + "\n".join(smiles) + "\n")
        subprocess.run([sys.executable, "-m", "molvae", "train", "--preset", preset, "--data", str(src),
                        "--out", str(Path(tmp) / "run"), "--epochs", "1", "--threads", "2", "--val-fraction",
                        "0.02", "--recon-eval", "10", "--workers", "2"], check=True, capture_output=True)
        return read_metrics(Path(tmp) / "run" / "metrics.jsonl")[-1]["molecules_per_s"]


def main():
    torch.set_num_threads(2)
    prov = record(BUNDLED)
    smiles = tables.read_smiles(ROOT / "data" / "moses_train_300k.csv.gz")[:14 * 512]
    rng = np.random.default_rng(0)

    # baseline: character SMILES, random padded batches of 512
    chars = sorted({c for s in smiles for c in s})
    idx = {c: i + 3 for i, c in enumerate(chars)}  # 0 pad, 1 bos, 2 eos
    seqs = [torch.tensor([1] + [idx[c] for c in s] + [2]) for s in smiles]
    base = MosesVAE(len(chars) + 3, 0)
    opt = torch.optim.Adam(base.parameters(), 3e-4)
    order = rng.permutation(len(seqs))
    base_batches = [[seqs[i] for i in order[k : k + 512]] for k in range(0, len(order), 512)]

    def base_step(b):
        loss = base(b)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(base.parameters(), 50)
        opt.step()
        return len(b)

    base_train = time_steps(base_step, base_batches)

    # molvae: `molvae train` itself, one epoch on the same molecules, for each recipe (--preset default is what
    # `molvae train` does without a config: the bundled default model's 3 x GRU 512 decoder, batches of 512)
    ours_train = {preset: train_rate(smiles, preset) for preset in ("default", "fast")}

    # sampling: the baseline at MOSES's sampling default (scripts/sample.py: --n_batch 32, --max_len 100) and in
    # one batch of 1024 (kinder to it: fewer, larger matrix products)
    base.eval()
    base.sample(32, bos=1)
    t = time.time()
    for _ in range(16):
        base.sample(32, bos=1)
    base32_seq_s = 16 * 32 / (time.time() - t)
    t = time.time()
    base.sample(1024, bos=1)
    base_seq_s = 1024 / (time.time() - t)
    workers = os.cpu_count() or 1
    rates = {}  # "model[_int8]" -> {"workers_1": valid molecules/s, "workers_K": ...}
    for name in BUNDLED:
        for int8 in (False, True):
            # batches of 1024 as the baseline's; int8: dynamic quantization of the GRU and linear layers (--int8)
            vae = MolVAE.load(BUNDLED[name], int8=int8, batch_size=1024)
            vae.sample(256, seed=1, prior="standard", greedy=False)
            for w in sorted({1, workers}):
                t = time.time()  # like the MOSES VAE: z ~ N(0, I), tokens drawn from the softmax
                df = vae.sample(4096, seed=2, keep_invalid=True, prior="standard", greedy=False, workers=w)
                rates.setdefault(f"{name}{'_int8' if int8 else ''}", {})[f"workers_{w}"] = round(
                    int(df["valid"].sum()) / (time.time() - t), 1)
    t = time.time()
    subprocess.run([sys.executable, "-m", "molvae", "sample", "-n", "10", "--model", BUNDLED["default"]], check=True, capture_output=True)
    cold = time.time() - t
    t = time.time()
    subprocess.run([sys.executable, "-m", "molvae", "--help"], check=True, capture_output=True)
    help_s = time.time() - t

    res = {"torch_threads": torch.get_num_threads(), "moses_vae_validity": MOSES_VAE_VALIDITY,
           "train_molecules_per_s": {"moses_vae": round(base_train, 1),
                                     **{f"molvae_{k}": round(v, 1) for k, v in ours_train.items()}},
           "baseline_sequences_per_s": {"batch_32": round(base32_seq_s, 1), "batch_1024": round(base_seq_s, 1)},
           "sample_batch_size": 1024, "sample_workers": workers, "sample_valid_per_s": rates,
           "cold_start_seconds": round(cold, 2), "help_seconds": round(help_s, 3)}
    res.update(prov)
    save("speed_vs_moses_vae", res, markdown(res))


def markdown(res: dict) -> str:
    v, w = res["moses_vae_validity"], res["sample_workers"]
    b32, b1024 = (res["baseline_sequences_per_s"][k] * v for k in ("batch_32", "batch_1024"))
    train = res["train_molecules_per_s"]
    rows = [
        f"| training, molecules/s ({res['cores']}-core CPU, {res['torch_threads']} torch threads, one run) |"
        " molecules/s | vs the MOSES VAE |",
        "|---|---|---|",
        f"| MOSES VAE at its defaults (ours, re-implemented): 3 x GRU 512 decoder, batches of 512 |"
        f" {train['moses_vae']:,.0f} | 1.0x |",
        f"| `molvae train` (defaults = `--preset default`: 3 x GRU 512 decoder, batches of 512) |"
        f" {train['molvae_default']:,.0f} | {train['molvae_default'] / train['moses_vae']:.1f}x |",
        f"| `molvae train --preset fast` (2 x GRU 384 decoder, batches of 1,024, property head) |"
        f" {train['molvae_fast']:,.0f} | {train['molvae_fast'] / train['moses_vae']:.1f}x |",
        "",
        f"| sampling, valid molecules/s, batches of {res['sample_batch_size']:,} | molvae, 1 process |"
        f" molvae, `--workers {w}` | vs the baseline in batches of 1,024 ({b1024:,.0f}/s) |"
        f" vs the baseline at MOSES's default, batches of 32 ({b32:,.0f}/s) |",
        "|---|---|---|---|---|",
    ]
    for key, r in res["sample_valid_per_s"].items():
        name, _, int8 = key.partition("_")
        best = r[f"workers_{w}"]
        rows.append(f"| `--model {name}`{', `--int8`' if int8 else ', float32'} | {r['workers_1']:,.0f} |"
                    f" {best:,.0f} | {best / b1024:.1f}x | {best / b32:.1f}x |")
    rows += ["", f"`molvae sample -n 10 --model {BUNDLED['default']}` from a cold start: {res['cold_start_seconds']:.1f} s; `molvae --help`:"
             f" {res['help_seconds']:.2f} s. The baseline's valid molecules/s are its sequences/s x its published"
             f" validity {v}."]
    return "\n".join(rows + ["", markdown_line(res)]) + "\n"


if __name__ == "__main__":
    main()
