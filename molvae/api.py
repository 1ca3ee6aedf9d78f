"""MolVAE: the one object users (and the modules above it) hold. Load a model, encode, decode, sample,
reconstruct."""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from .chem import mol as chem
from .model import checkpoint
from .model.device import pick_device
from .model.prior import RANKS
from .model.vae import VAE, is_quantized
from .model.tokens import SmilesDecoding, Vocab, pad_batch, selfies_rules, selfies_to_smiles
from .errors import MolvaeError

BUNDLED = checkpoint.bundled_dir("default")


@dataclass
class Inputs:
    """Per input: token ids (None when it cannot be encoded), the reason ("" when it can), the canonical SMILES
    that was encoded (None when nothing was), whether its stereochemistry was removed first, and the input's
    own canonical SMILES (None when it is not a molecule)."""

    ids: list
    reasons: list
    encoded: list
    stereo_removed: list
    canonical: list


class MolVAE:
    def __init__(self, model: VAE, vocab: Vocab, meta: dict, path: Path | None = None, batch_size: int = 512,
                 device: str = "cpu"):
        self.device = torch.device(pick_device(device))
        self.model, self.vocab, self.meta, self.path = model.to(self.device).eval(), vocab, meta, path
        self.batch_size = batch_size

    @classmethod
    def load(cls, path=None, device: str = "cpu", int8: bool = False, batch_size: int = 512) -> "MolVAE":
        """The bundled model when path is None, else a model directory, a training output directory, or a
        bundled model's name (`molvae.model.checkpoint.bundled_models()`: `default`, the one loaded with no path;
        `moses`, trained on MOSES; `fast`, its smaller decoder).

        device: cpu (default), cuda, mps or auto (CUDA, then MPS, then CPU). Sampling with a seed is
        reproducible on a given device; CPU and GPU draw different random numbers.
        int8: on the CPU, dynamic int8 quantization of the GRU and linear layers (weights stored as int8,
        activations quantized on the fly): faster decoding, slightly different numbers (see docs/benchmarks.md).
        batch_size: molecules encoded or decoded at once.
        """
        path = BUNDLED if path is None else Path(path)
        if path == BUNDLED and not (path / "model.json").exists():
            raise checkpoint.ModelError(f"the bundled model is missing from {path} (reinstall molvae)")
        model, vocab, meta = checkpoint.load_model(path)
        if int8:
            if pick_device(device) != "cpu":
                raise MolvaeError("int8 quantization runs on the CPU only")
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(model.eval(), {torch.nn.GRU, torch.nn.Linear},
                                                               dtype=torch.qint8)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise MolvaeError(f"batch_size must be a positive whole number, got {batch_size!r}")
        return cls(model, vocab, meta, checkpoint.resolve_model_dir(path), batch_size=batch_size, device=device)

    def _generator(self, seed: int | None) -> torch.Generator | None:
        return None if seed is None else torch.Generator(device=self.device).manual_seed(int(seed))

    @property
    def latent_dim(self) -> int:
        return self.model.cfg.latent_dim

    @property
    def properties(self) -> tuple:
        """Names of the properties the model's head predicts (empty when it has no head)."""
        return tuple(self.model.cfg.properties)

    # -- property head ---------------------------------------------------------------------------------
    @torch.no_grad()
    def predict_latent(self, z) -> np.ndarray:
        """The head's predictions (N, K) for latent points, in the properties' own units; NaN rows where z
        has NaN (a molecule that could not be encoded)."""
        if not self.properties:
            raise MolvaeError("this model has no property head (train one with --properties)")
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        out = np.full((len(z), len(self.properties)), np.nan, dtype=np.float32)
        ok = np.isfinite(z).all(1)
        if ok.any():
            t = torch.from_numpy(z[ok]).to(self.device)
            out[ok] = self.model.predict_properties(t).float().cpu().numpy()
        return out

    def predict(self, smiles: Sequence) -> pd.DataFrame:
        """pred_<name> for each input molecule (from its mu); NaN where a molecule cannot be encoded."""
        pred = self.predict_latent(self.encode(smiles))
        return pd.DataFrame({f"pred_{n}": pred[:, j] for j, n in enumerate(self.properties)})

    # -- encoding --------------------------------------------------------------------------------------
    def tokenize(self, smiles: Sequence) -> tuple[list, list[str]]:
        """Token ids (or None) and a reason ("" when encodable) for each input."""
        inputs = self.inputs(smiles)
        return inputs.ids, inputs.reasons

    def inputs(self, smiles: Sequence) -> "Inputs":
        """What the model makes of each input: token ids (or None), the reason when it cannot encode it, the
        canonical SMILES it encodes, and whether stereochemistry was removed to encode it. A model whose
        vocabulary has no stereo tokens encodes a stereo molecule without its stereochemistry (and says so)
        rather than refusing it; a charge or element it lacks is still refused with the token's name."""
        out = Inputs([], [], [], [], [])
        strip = not self.vocab.has_stereo
        for s in chem.as_smiles(smiles):
            canon = chem.canonical(s)
            out.canonical.append(canon)
            removed = bool(strip and canon and chem.has_stereo(canon))
            if removed:
                canon = chem.without_stereo(canon)
            seq, why = self.vocab.encode(canon if removed else s)
            out.ids.append(seq)
            out.reasons.append(why)
            out.encoded.append(canon if seq is not None else None)
            out.stereo_removed.append(removed and seq is not None)
        return out

    def batches(self, seqs: list) -> Iterable[tuple[np.ndarray, torch.Tensor, torch.Tensor]]:
        """Encodable rows in length-sorted batches: (row indices, x, lengths)."""
        rows = np.array([i for i, s in enumerate(seqs) if s is not None], dtype=np.int64)
        rows = rows[np.argsort([len(seqs[i]) for i in rows], kind="stable")]
        for s in range(0, len(rows), self.batch_size):
            idx = rows[s : s + self.batch_size]
            x, lengths = pad_batch([seqs[i] for i in idx])
            yield idx, torch.from_numpy(x), torch.from_numpy(lengths)

    def encode(self, smiles: Sequence, return_logvar: bool = False):
        """mu (N, D) for each input; rows that cannot be encoded are NaN. Optionally logvar as well."""
        mu, logvar = self._encode_ids(self.tokenize(smiles)[0])
        return (mu, logvar) if return_logvar else mu

    @torch.no_grad()
    def _encode_ids(self, seqs: list) -> tuple[np.ndarray, np.ndarray]:
        mu = np.full((len(seqs), self.latent_dim), np.nan, dtype=np.float32)
        logvar = mu.copy()
        for idx, x, lengths in self.batches(seqs):
            m, lv = self.model.encode(x.to(self.device), lengths.to(self.device))
            mu[idx], logvar[idx] = m.float().cpu().numpy(), lv.float().cpu().numpy()
        return mu, logvar

    @torch.no_grad()
    def elbo_terms(self, x: torch.Tensor, lengths: torch.Tensor) -> dict:
        """Negative ELBO (nats) with the decoder evaluated at the posterior mean, and mu, for a batch."""
        rec, kl, mu = self.model(x.to(self.device), lengths.to(self.device), sample=False)
        return {"nll": (rec + kl.sum(1)).cpu().numpy(), "mu": mu.cpu().numpy()}

    def is_novel(self, canonical_smiles: Sequence) -> np.ndarray | None:
        """True where a canonical SMILES is not among the model's training molecules; None when the model
        carries no training set."""
        if not hasattr(self, "_train_hashes"):
            self._train_hashes = checkpoint.load_training_set(self.path) if self.path else None
        if self._train_hashes is None:
            return None
        return chem.not_in_hashes(chem.smiles_hashes([s or "" for s in canonical_smiles]), self._train_hashes)

    # -- decoding --------------------------------------------------------------------------------------
    @torch.no_grad()
    def decode_selfies(self, z, greedy: bool = True, temperature: float = 1.0,
                       generator: torch.Generator | None = None) -> tuple[list[str], np.ndarray]:
        """SELFIES strings and their decoder log-likelihoods for a batch of latents."""
        if temperature <= 0:
            raise MolvaeError("temperature must be positive")
        z = (z if torch.is_tensor(z) else torch.as_tensor(np.asarray(z, dtype=np.float32))).to(self.device, torch.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise MolvaeError(f"latents must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        out, ll = [], []
        for s in range(0, z.shape[0], self.batch_size):
            ids, loglik = self.model.generate(z[s : s + self.batch_size], greedy=greedy, temperature=temperature,
                                              generator=generator)
            out.extend(self.vocab.decode_ids(row) for row in ids.cpu().tolist())
            ll.append(loglik.cpu().numpy())
        return out, (np.concatenate(ll) if ll else np.zeros(0, dtype=np.float32))

    def decode(self, z, greedy: bool = True, temperature: float = 1.0, seed: int | None = None) -> list:
        """Canonical SMILES for each latent (None where RDKit rejects the decoded molecule)."""
        selfies, _ = self.decode_selfies(z, greedy=greedy, temperature=temperature, generator=self._generator(seed))
        return [selfies_to_smiles(s) for s in selfies]

    # -- sampling --------------------------------------------------------------------------------------
    def _decoded_rounds(self, first: int, more, max_draws: int, draw, gen, dec, greedy, temperature):
        """(selfies, loglik, smiles) batches in draw order: a round of ``first`` draws, then, each time a round
        has been taken in, a round of more() draws, until more() is 0 or max_draws are drawn. The GRU decodes
        the next batch while ``dec`` turns earlier ones into SMILES; batch sizes depend only on what finished
        rounds gave, so the molecules are the same however many processes turn SELFIES into SMILES."""
        pending, scheduled, left = deque(), 0, first
        while True:
            while left > 0 and scheduled < max_draws and len(pending) < dec.depth:
                k = min(self.batch_size, left, max_draws - scheduled)
                selfies, ll = self.decode_selfies(draw(k, gen), greedy=greedy, temperature=temperature, generator=gen)
                pending.append((selfies, ll, dec.submit(selfies)))
                scheduled, left = scheduled + k, left - k
            if not pending:
                return
            selfies, ll, smiles = pending.popleft()
            yield selfies, ll, smiles.result()
            if not pending and left == 0:
                left = more()

    def sample(self, n: int, temperature: float = 1.0, latent_scale: float = 1.0, greedy: bool | None = None,
               seed: int | None = 0, keep_invalid: bool = False, max_draws: int | None = None,
               relaxed: bool | None = None, rerank: int | None = None, progress: bool = False, prior: str = "auto",
               filters=None, workers: int = 1, refine: int | None = None, rank: str | None = None) -> pd.DataFrame:
        """n molecules decoded from latents drawn from the prior: ``prior="learned"`` the model's learned prior
        (molvae.model.prior; latent_scale multiplies its components' spread), ``"standard"`` N(0, latent_scale^2 I),
        ``"auto"`` (default) the learned prior when the model has one. greedy: argmax decoding (True), tokens
        drawn at ``temperature`` (False), or None (default): greedy from a learned prior, drawn from N(0, I) (the
        choice measured best for each in benchmarks/prior_choice.py).

        By default only molecules that RDKit accepts are returned, drawing more until n have passed; the
        table's `attrs` holds how many were drawn and why any were discarded. With keep_invalid every draw
        is a row (smiles empty, valid False where RDKit rejected it). relaxed decodes with loosened SELFIES
        valence rules, so that decoder mistakes are rejected by RDKit instead of repaired (more draws,
        more realistic molecules); None (default): relaxed when decoding greedily from a learned prior (FCD
        0.61 against 1.10 at 30,000 samples, about 1.2 draws per molecule: benchmarks/results/quality_30000*),
        strict otherwise. The choices made are in ``attrs`` (prior, greedy, relaxed). rerank K draws K times
        as many molecules and keeps the n ranked highest (in draw order): by ``rank`` "likelihood", the decoder's
        log-likelihood per token, before refining; by "critic", the model's realism critic (molvae.model.critic,
        fitted by `molvae fit-critic`), after refining every draw; None (default): 1, or what the learned prior was
        chosen with (its prior.json's `sampling`: relaxed, rerank, refine and rank, used when decoding greedily from
        it and not given). refine C passes each kept molecule C times through the autoencoder (MolVAE.refine:
        re-encoded, its mu decoded greedily); None (default): 0, or the learned prior's recorded choice. progress shows a bar of draws
        (on a terminal). filters (a function mol -> bool, e.g. molvae.metrics.filter_function("moses")) discards
        molecules that fail it, counted among the discards. workers > 1 turns SELFIES into SMILES and checks
        them with RDKit in that many processes while the GRU decodes the next batch (when n needs more than one
        batch); the molecules are the same as with workers=1.
        """
        chosen = self.prior.sampling if self.uses_learned_prior(prior) and greedy is not False else {}
        rerank = chosen.get("rerank", 1) if rerank is None else rerank
        relaxed = chosen.get("relaxed") if relaxed is None else relaxed
        refine = chosen.get("refine", 0) if refine is None else refine
        rank = chosen.get("rank", "likelihood") if rank is None else rank
        _check_sample_args(n, temperature, latent_scale, rerank, keep_invalid, refine, rank)
        by_critic = rerank > 1 and rank == "critic"  # the critic ranks refined draws; likelihood ranks raw ones
        if by_critic and self.critic is None:
            raise MolvaeError(f"this model has no critic to rank by (fit one: molvae fit-critic --model {self.path})")
        if rerank > 1 or refine:
            df = self.sample(n * rerank, temperature, latent_scale, greedy, seed, keep_invalid, max_draws and
                             max_draws * rerank, relaxed, 1, progress, prior, filters, workers,
                             refine=refine if by_critic else 0)
            if by_critic:
                out = _rerank(df, n, self.critic.score(df["smiles"]))
                out.attrs.update(rank="critic")
                return out
            return self._refined(_rerank(df, n) if rerank > 1 else df, refine, filters)
        draw, learned = self.prior_sampler(prior, latent_scale), self.uses_learned_prior(prior)
        if greedy is None:
            greedy = learned
        if relaxed is None:
            relaxed = greedy and learned
        import secrets

        from tqdm import tqdm

        gen = self._generator(seed if seed is not None else secrets.randbits(63))
        rows, drawn, discarded = [], 0, Counter()
        max_draws = max_draws or max(10 * n, 1000)
        bar = tqdm(total=n, desc="sample", unit="mol", disable=None if progress else True, mininterval=1)
        more = (lambda: 0) if keep_invalid else (lambda: n - len(rows))
        with SmilesDecoding(workers if n > self.batch_size else 1, relaxed) as dec:
            for selfies, ll, decoded in self._decoded_rounds(n, more, max_draws, draw, gen, dec, greedy, temperature):
                drawn += len(selfies)
                rows += _kept_rows(selfies, ll, decoded, keep_invalid, filters, discarded)
                bar.update(min(len(rows), n) - bar.n)
        bar.close()
        df = pd.DataFrame(rows[:n] if not keep_invalid else rows, columns=["smiles", "selfies", "valid", "loglik"])
        df.attrs.update(drawn=drawn, discarded=dict(discarded),  # with keep_invalid nothing is discarded
                        prior="learned" if learned else "standard", greedy=greedy,
                        relaxed=relaxed)
        return df

    def refine(self, smiles: Sequence, cycles: int = 1, relaxed: bool = False, filters=None) -> pd.DataFrame:
        """Each molecule passed ``cycles`` times through the autoencoder: re-encoded, and its mu decoded greedily
        (SELFIES's own valence rules, or ``relaxed`` ones). The encode-decode chain of a denoising autoencoder
        (Bengio et al., NeurIPS 2013) moves decoder output toward molecules the model reconstructs: in
        benchmarks/prior_choice.py it lowers the FCD of exemplar-prior samples at about the same novelty.
        Radicals (an unpaired electron a decoder leaves, e.g. on a [C@H] token whose bonds went elsewhere) are
        saturated with hydrogens first. A step that fails (the molecule cannot be encoded, RDKit rejects the
        decode, or it fails ``filters``, a function mol -> bool) leaves that molecule as it was, and such a molecule,
        like one that came back as itself, leaves the chain (the greedy step would repeat). One row per input, in
        order: smiles (canonical; empty where the input is not a molecule), selfies (the last decode, empty where
        none was kept), loglik (its decoder log-likelihood, NaN where none) and changed (whether the molecule
        differs from the one given)."""
        if cycles < 0:
            raise MolvaeError("cycles must be 0 or more")
        given = np.asarray([chem.canonical(s) or "" for s in chem.as_smiles(smiles)], dtype=object)
        smiles = np.asarray([chem.saturate_radicals(s) if s else s for s in given], dtype=object)
        selfies, loglik = np.full(len(given), "", dtype=object), np.full(len(given), np.nan)
        rows = np.flatnonzero(smiles != "")
        for _ in range(cycles):
            mu = self.encode(smiles[rows].tolist())
            ok = np.isfinite(mu).all(1)
            decoded, ll = self.decode_selfies(mu[ok])
            with selfies_rules(relaxed), chem.rdkit_quiet():
                new = [selfies_to_smiles(sf) for sf in decoded]
            keep = [j for j, smi in enumerate(new) if smi and (filters is None or filters(chem.to_mol(smi)))]
            at = rows[ok][keep]
            stepped = np.asarray([chem.saturate_radicals(new[j]) for j in keep], dtype=object)
            moved = stepped != smiles[at]
            smiles[at], selfies[at] = stepped, [decoded[j] for j in keep]
            loglik[at] = np.round(ll[keep].astype(np.float64), 4)
            rows = at[moved]  # a molecule that failed or stayed put would do the same again: only the moved go on
            if not len(rows):
                break
        return pd.DataFrame({"smiles": smiles, "selfies": selfies, "loglik": loglik, "changed": smiles != given})

    def _refined(self, df: pd.DataFrame, cycles: int, filters) -> pd.DataFrame:
        """A sample with its valid molecules refined (refine()), in place of the draws; attrs say how many moved."""
        if not cycles or df.empty:
            return df
        valid = np.flatnonzero(df["valid"].to_numpy())
        done = self.refine(df["smiles"].to_numpy()[valid].tolist(), cycles, bool(df.attrs.get("relaxed")), filters)
        smiles, selfies, loglik = (df[c].to_numpy(copy=True) for c in ("smiles", "selfies", "loglik"))
        stepped = (done["selfies"] != "").to_numpy()
        smiles[valid] = done["smiles"].to_numpy()
        selfies[valid[stepped]] = done["selfies"].to_numpy()[stepped]
        loglik[valid[stepped]] = done["loglik"].to_numpy()[stepped]
        out = df.assign(smiles=smiles, selfies=selfies, loglik=loglik)
        out.attrs.update(df.attrs, refine=cycles, refined=int(done["changed"].sum()))
        return out

    @property
    def critic(self):
        """The model's realism critic (molvae.model.critic.Critic), or None when it has none."""
        if not hasattr(self, "_critic"):
            from .model import critic

            self._critic = critic.load(self.path) if self.path else None
        return self._critic

    @property
    def prior(self):
        """The model's learned prior (molvae.model.prior.GaussianMixture), or None when it has none."""
        if not hasattr(self, "_prior"):
            from .model import prior

            self._prior = prior.load(self.path, self.latent_dim) if self.path else None
        return self._prior

    def uses_learned_prior(self, prior: str = "auto") -> bool:
        """Whether draws for ``prior`` (auto, learned, standard) come from the learned prior; one-line errors
        for an unknown name or a learned prior the model does not have."""
        if prior not in ("auto", "learned", "standard"):
            raise MolvaeError(f"unknown prior '{prior}' (auto, learned, standard)")
        if prior == "learned" and self.prior is None:
            raise MolvaeError(f"this model has no learned prior (fit one: molvae fit-prior --model {self.path})")
        return prior != "standard" and self.prior is not None

    def prior_sampler(self, prior: str = "auto", latent_scale: float = 1.0):
        """A function (k, generator) -> k latents on the model's device, from the prior asked for."""
        learned = self.prior if self.uses_learned_prior(prior) else None
        if learned is None:
            return lambda k, gen: torch.randn(k, self.latent_dim, generator=gen, device=self.device) * latent_scale
        return lambda k, gen: learned.sample(k, gen if gen is None or gen.device.type == "cpu" else None,
                                             scale=latent_scale, device=self.device)

    def invert(self, smiles, steps: int = 300, lr: float = 0.05, check_every: int = 10) -> tuple[np.ndarray, bool]:
        """A latent that greedily decodes to the molecule, found by gradient ascent on the decoder's
        teacher-forced log-likelihood of its tokens, starting at mu ("inversion", as in InvBO, Chu et al.,
        NeurIPS 2024): mu itself often decodes to something else. Returns (z, whether z decodes back);
        when no z is found within ``steps``, the most likely one seen."""
        z0, canon = self.encode_one(smiles)
        if self.decode(z0[None])[0] == canon:
            return z0, True
        if is_quantized(self.model):
            return z0, False  # an int8 decoder has no gradient
        seq = self.inputs([canon]).ids[0]
        x = torch.tensor([seq], device=self.device)
        z = torch.tensor(z0[None], device=self.device, requires_grad=True)
        opt = torch.optim.Adam([z], lr=lr)
        for step in range(1, steps + 1):
            with torch.enable_grad():
                logits = self.model.decode_logits(z, x)
                loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x, reduction="sum")
                z.grad, = torch.autograd.grad(loss, z)  # the model's own weights get no gradient
            opt.step()
            if step % check_every == 0 and self.decode(z.detach().cpu().numpy())[0] == canon:
                return z.detach().cpu().numpy()[0], True
        return z.detach().cpu().numpy()[0], False

    # -- reconstruction --------------------------------------------------------------------------------
    def reconstruct(self, smiles: Sequence) -> pd.DataFrame:
        """Greedy decode of mu for each input: columns canonical_smiles, reconstruction, recon_exact (against
        the molecule as encoded: without its stereochemistry where stereo_removed), stereo_removed, error."""
        items = chem.as_smiles(smiles)
        inputs = self.inputs(items)
        seqs, reasons = inputs.ids, inputs.reasons
        mu, _ = self._encode_ids(seqs)
        ok = ~np.isnan(mu).any(1)
        rec = [None] * len(items)
        if ok.any():
            dec = self.decode(mu[ok], greedy=True)
            for i, d in zip(np.flatnonzero(ok), dec):
                rec[i] = d
        return pd.DataFrame({
            "canonical_smiles": [c or "" for c in inputs.canonical],
            "reconstruction": [r or "" for r in rec],
            "recon_exact": [bool(r is not None and e is not None and r == e) for r, e in zip(rec, inputs.encoded)],
            "stereo_removed": inputs.stereo_removed,
            "error": reasons,
        })

    # -- latent space ----------------------------------------------------------------------------------
    def encode_one(self, smiles, role: str = "the molecule") -> tuple[np.ndarray, str]:
        """mu of one molecule and its canonical SMILES; ValueError naming ``role`` when it cannot be encoded."""
        item = chem.as_smiles([smiles])[0]
        canon = chem.canonical(item)
        seqs, reasons = self.tokenize([item])
        if seqs[0] is None:
            raise MolvaeError(f"{role} cannot be encoded ({reasons[0]}): {str(item)[:80]!r}")
        return self._encode_ids(seqs)[0][0], canon


def _check_sample_args(n: int, temperature: float, latent_scale: float, rerank: int, keep_invalid: bool,
                       refine: int = 0, rank: str = "likelihood") -> None:
    if rank not in RANKS:
        raise MolvaeError(f"unknown rank '{rank}' ({', '.join(RANKS)})")
    if refine < 0:
        raise MolvaeError("refine must be 0 or more")
    if rerank < 1:
        raise MolvaeError("rerank must be at least 1")
    if rerank > 1 and keep_invalid:
        raise MolvaeError("rerank keeps the most likely valid molecules; it cannot keep invalid ones")
    if n < 0:
        raise MolvaeError("n must not be negative")
    if temperature <= 0 or latent_scale <= 0:
        raise MolvaeError("temperature and latent_scale must be positive")


def _kept_rows(selfies: list, loglik, smiles: list, keep_invalid: bool, filters, discarded: Counter) -> list:
    """The rows one decoded batch adds to a sample; what it leaves out is counted in discarded by reason: draws
    RDKit rejected (kept as invalid rows with keep_invalid) and molecules that fail the filters."""
    rows = []
    for s, ll, smi in zip(selfies, loglik, smiles):
        if smi is None and not keep_invalid:
            discarded["empty" if not s else "rejected by RDKit"] += 1
        elif smi is not None and filters is not None and not filters(chem.to_mol(smi)):
            discarded["failed the filters"] += 1
        else:
            rows.append({"smiles": smi or "", "selfies": s, "valid": smi is not None, "loglik": round(float(ll), 4)})
    return rows


def _rerank(pool: pd.DataFrame, n: int, score=None) -> pd.DataFrame:
    """The n molecules of a sample with the highest ``score`` (NaN lowest; default: the decoder log-likelihood
    per token), in draw order."""
    if score is None:
        score = (pool["loglik"] / pool["selfies"].str.count(r"\[").add(1)).to_numpy()
    keep = np.sort(np.argsort(-np.nan_to_num(np.asarray(score, dtype=float), nan=-np.inf), kind="stable")[:n])
    out = pool.iloc[keep].reset_index(drop=True)
    out.attrs.update(pool.attrs, discarded={**pool.attrs["discarded"],
                     "re-ranked out": len(pool) - len(out)})
    return out
