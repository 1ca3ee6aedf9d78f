"""Training and sampling throughput of molvae vs a re-implementation of the MOSES VAE at its published
defaults, measured in one run on this machine (issue 7).

Baseline (written here from the MOSES paper and its documented defaults, not from its code): character-level
SMILES, one-hot inputs (an embedding initialised to the identity), a 1-layer unidirectional GRU 256 encoder over
packed sequences, z = 128, a 3-layer GRU 512 decoder fed z at every step, batch 512 of randomly drawn
molecules padded to the longest, Adam 3e-4; sampling is multinomial to max_len 100 with no early stop.

molvae: the default configuration of `molvae train` (SELFIES, embedding 64, bidirectional GRU 256 encoder,
z = 64, one GRU 512 decoder layer, length-bucketed batches of 256) for training; for sampling, the two bundled
models through `MolVAE.sample` (batched, finished sequences leave the batch, the loop stops when all have
ended), in float32 and with `--int8` (dynamic int8 quantization of the GRU and linear layers): `default` (a
3-layer GRU 512 decoder, as the baseline's) and `fast` (a 2-layer GRU 384 decoder).

Training throughput uses the same molecules for both and the time of 12 steps after 2 warm-up steps.
Sampling: molvae's valid molecules/s are measured with the bundled models; the baseline has no trained weights
here, so its valid molecules/s are its sequences/s times its published validity (0.9767).

    python benchmarks/speed_vs_moses_vae.py

Writes benchmarks/results/speed_vs_moses_vae.json (every rate, with the provenance fields of
benchmarks/provenance.py for both bundled models) and, from it, speed_vs_moses_vae.md.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from molvae import data, tokens
from molvae.api import MolVAE
from molvae.model import VAE, ModelConfig, kl_loss
from molvae.tokens import Vocab
from provenance import markdown_line, record

ROOT = Path(__file__).resolve().parent.parent
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


def time_steps(step, batches, warm=2):
    for b in batches[:warm]:
        step(b)
    t, n = time.time(), 0
    for b in batches[warm:]:
        n += step(b)
    return n / (time.time() - t)


def main():
    torch.set_num_threads(2)
    prov = record({"default": "default", "fast": "fast"})
    smiles = data.read_smiles(ROOT / "data" / "moses_train_300k.csv.gz")[:14 * 512]
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

    # molvae: the default training configuration on the same molecules
    selfies = [tokens.smiles_to_selfies(s)[0] for s in smiles]
    vocab = Vocab.build([s for s in selfies if s])
    ts = data.tokenize(smiles, vocab, selfies)
    model = VAE(ModelConfig(vocab_size=len(vocab), max_len=vocab.max_len)).train()
    opt2 = torch.optim.Adam(model.parameters(), 1e-3)
    ours_batches = data.bucketed_batches(ts.lengths, 256, rng)

    def ours_step(b):
        lengths = ts.lengths[b].astype(np.int64)
        x = torch.from_numpy(ts.ids[b, : lengths.max()].astype(np.int64))
        nll, kl, _ = model(x, torch.from_numpy(lengths))
        loss = nll.mean() + 0.1 * kl_loss(kl, 0.1)
        opt2.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5)
        opt2.step()
        return len(b)

    ours_train = time_steps(ours_step, ours_batches[:28])

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
    rates = {}  # (bundled model, int8) -> valid molecules/s
    for name in ("default", "fast"):
        for int8 in (False, True):
            vae = MolVAE.load(name, int8=int8)  # int8: dynamic quantization of the GRU and linear layers (--int8)
            vae.sample(256, seed=1, prior="standard", greedy=False)
            t = time.time()  # like the MOSES VAE: z ~ N(0, I), tokens drawn from the softmax
            df = vae.sample(4096, seed=2, keep_invalid=True, prior="standard", greedy=False)
            rates[name, int8] = int(df["valid"].sum()) / (time.time() - t)
    t = time.time()
    subprocess.run([sys.executable, "-m", "molvae", "sample", "-n", "10"], check=True, capture_output=True)
    cold = time.time() - t
    t = time.time()
    subprocess.run([sys.executable, "-m", "molvae", "--help"], check=True, capture_output=True)
    help_s = time.time() - t

    res = {"torch_threads": torch.get_num_threads(), "moses_vae_validity": MOSES_VAE_VALIDITY,
           "train_molecules_per_s": {"moses_vae": round(base_train, 1), "molvae": round(ours_train, 1)},
           "baseline_sequences_per_s": {"batch_32": round(base32_seq_s, 1), "batch_1024": round(base_seq_s, 1)},
           "sample_valid_per_s": {f"{name}{'_int8' if int8 else ''}": round(r, 1) for (name, int8), r in rates.items()},
           "cold_start_seconds": round(cold, 2), "help_seconds": round(help_s, 3)}
    res.update(prov)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "speed_vs_moses_vae.json").write_text(json.dumps(res, indent=2) + "\n")
    text = markdown(res)
    (out / "speed_vs_moses_vae.md").write_text(text)
    print(text, end="")


def markdown(res: dict) -> str:
    v = res["moses_vae_validity"]
    b32, b1024 = (res["baseline_sequences_per_s"][k] * v for k in ("batch_32", "batch_1024"))
    base_train, ours_train = res["train_molecules_per_s"]["moses_vae"], res["train_molecules_per_s"]["molvae"]
    rows = [
        f"| measure ({res['cores']}-core CPU, {res['torch_threads']} torch threads, one run) |"
        " MOSES VAE defaults (ours, re-implemented) | molvae | ratio |",
        "|---|---|---|---|",
        f"| training, molecules/s | {base_train:,.0f} | {ours_train:,.0f} | {ours_train / base_train:.1f}x |",
        f"| `molvae sample -n 10`, cold start | - | {res['cold_start_seconds']:.1f} s | - |",
        f"| `molvae --help` | - | {res['help_seconds']:.2f} s | - |",
        "",
        "| sampling, valid molecules/s | molvae | vs baseline at MOSES's sampling default, batches of 32"
        f" ({b32:,.0f}/s = sequences/s x {v}) | vs baseline in one batch of 1024 ({b1024:,.0f}/s) |",
        "|---|---|---|---|",
    ]
    for key, r in res["sample_valid_per_s"].items():
        name, _, int8 = key.partition("_")
        rows.append(f"| `--model {name}`{', `--int8`' if int8 else ', float32'} | {r:,.0f} | {r / b32:.1f}x |"
                    f" {r / b1024:.1f}x |")
    return "\n".join(rows + ["", markdown_line(res)]) + "\n"


if __name__ == "__main__":
    main()
