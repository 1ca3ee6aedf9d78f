"""Batch scoring of molecule files: streamed in chunks, scored in parallel (local processes or Dask), every
input row kept in input order with all its columns, written atomically.

The per-chunk function `score_chunk` is the unit of work for both engines, so a Dask cluster computes
exactly what the local engine computes.
"""
from __future__ import annotations

import os
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from .chem import mol as chem, properties
from .io import sdf
from .io.tables import DataError, iter_table, output_name  # noqa: F401 (output_name: re-exported)
from .chem.pools import Done, available_cpus, process_pool
from .chem.standardize import apply as standardize_chunk, check_mode
from .io.writers import LatentWriter, TableWriter

PROPERTY_COLUMNS = ["mw", "logp", "qed", "sa", "tpsa", "hbd", "hba", "rotatable_bonds", "rings", "plogp",
                    "lipinski_violations"]
CHEM_COLUMNS = ["canonical_smiles", "inchikey", "valid", "error", *PROPERTY_COLUMNS, "pains", "alerts"]
MODEL_COLUMNS = ["in_vocab", "vae_error", "nll", "recon_exact", "stereo_removed", "novel"]


# -- per-molecule and per-chunk work ----------------------------------------------------------------------
def _inchikey(mol) -> str:
    from rdkit import Chem

    try:
        return Chem.MolToInchiKey(mol) or ""
    except Exception as exc:  # noqa: BLE001 - a molecule InChI cannot describe gets no key
        if not chem.is_rdkit_error(exc):
            raise
        return ""


def score_smiles(smiles: list) -> pd.DataFrame:
    """Chemistry columns for each SMILES (or RDKit Mol): canonical form, InChIKey, validity with a reason,
    properties, alerts."""
    rows = []
    for s in chem.as_smiles(smiles):
        mol, why = chem.check_smiles(s)
        if mol is None:
            rows.append({"canonical_smiles": "", "inchikey": "", "valid": False, "error": why, "pains": "",
                         "alerts": ""})
            continue
        row = {"canonical_smiles": chem.mol_to_smiles(mol), "inchikey": _inchikey(mol), "valid": True, "error": ""}
        for name in PROPERTY_COLUMNS:
            row[name] = properties.PROPERTIES[name](mol)
        row["pains"] = ";".join(properties.alerts(mol, "PAINS"))
        row["alerts"] = ";".join(properties.alerts(mol, "BRENK"))
        rows.append(row)
    df = pd.DataFrame(rows, columns=CHEM_COLUMNS)
    for name in ("hbd", "hba", "rotatable_bonds", "rings", "lipinski_violations"):
        df[name] = df[name].astype("Int64")
    return df


@lru_cache(maxsize=2)
def _model(path: str | None, device: str = "cpu", int8: bool = False, batch_size: int = 512):
    import torch

    from .api import MolVAE

    if os.environ.get("MOLVAE_WORKER"):
        torch.set_num_threads(1)
    return MolVAE.load(path, device=device, int8=int8, batch_size=batch_size)


def _vae_errors(reasons: list, errors) -> list:
    """Why the model cannot read each molecule ("" when it can): an invalid molecule says so with its reason."""
    if errors is None:
        return list(reasons)
    return [f"invalid molecule ({e})" if e else r for r, e in zip(reasons, errors)]


def score_with_model(vae, canonical: list[str], errors=None) -> tuple[pd.DataFrame, np.ndarray]:
    """in_vocab, vae_error (why the model cannot read the molecule: `unknown token [Na+1]`, `too long ...`;
    ``errors`` are the chemistry check's reasons for invalid rows), nll (negative ELBO in nats, at the
    posterior mean), recon_exact, stereo_removed, novel, prior_logp (the learned prior's log-density of mu,
    when the model has one) and pred_<name> for each property the model's head predicts (from mu); and mu."""
    n = len(canonical)
    inputs = vae.inputs([c if c else None for c in canonical])
    seqs, reasons = inputs.ids, inputs.reasons
    nll = np.full(n, np.nan)
    mu = np.full((n, vae.latent_dim), np.nan, dtype=np.float32)
    rec = [""] * n
    for idx, x, lengths in vae.batches(seqs):
        terms = vae.elbo_terms(x, lengths)
        nll[idx] = terms["nll"]
        mu[idx] = terms["mu"]
        for i, s in zip(idx, vae.decode(terms["mu"], greedy=True)):
            rec[i] = s or ""
    in_vocab = np.array([r == "" for r in reasons])
    novel = vae.is_novel(canonical)
    df = pd.DataFrame({
        "in_vocab": in_vocab,
        "vae_error": _vae_errors(reasons, errors),
        "nll": np.round(nll, 4),
        "recon_exact": [bool(e) and r == e for r, e in zip(rec, inputs.encoded)],
        "stereo_removed": inputs.stereo_removed,
        "novel": pd.array([None if novel is None or not c else bool(v)
                           for v, c in zip(novel if novel is not None else canonical, canonical)], dtype="boolean"),
    })
    if vae.prior is not None:  # a second anomaly score: how typical mu is of the training molecules' latents
        df["prior_logp"] = np.round(vae.prior.log_prob(mu), 4)
    if vae.properties:
        pred = vae.predict_latent(mu)
        for j, name in enumerate(vae.properties):
            df[f"pred_{name}"] = np.round(pred[:, j].astype(np.float64), 4)
    return df, mu


def score_chunk(chunk: pd.DataFrame, smiles_column: str, model: tuple | None, with_model: bool,
                standardize: str = "off"):
    """Score one chunk; ``model``: (path, device, int8, batch size); ``standardize``: a mode of
    molvae.chem.standardize, whose molecules are then the ones scored. Returns (chunk with the standardization and
    score columns added, mu or None, valid, error)."""
    chunk = chunk.reset_index(drop=True)
    out, molecules = standardize_chunk(chunk, smiles_column, standardize, output_name)
    scores = score_smiles(molecules)
    if sdf.READ_ERROR in chunk.columns:  # an SD record that could not be read says why, not "empty"
        unread = (chunk[sdf.READ_ERROR].fillna("") != "").to_numpy()
        scores.loc[unread, "error"] = chunk[sdf.READ_ERROR].to_numpy()[unread]
    mu = None
    if with_model:
        mscores, mu = score_with_model(_model(*model), scores["canonical_smiles"].tolist(),
                                       scores["error"].tolist())
        scores = pd.concat([scores, mscores], axis=1)
    out = out.copy()
    taken = set(map(str, out.columns))
    for col in scores.columns:
        name = output_name(col, taken)
        taken.add(name)
        out[name] = scores[col].values
    return out, mu, scores["valid"].to_numpy(), scores["error"].to_numpy()


# -- engines ----------------------------------------------------------------------------------------------
def _ordered(chunks, submit, window: int):
    """Results in input order with at most `window` chunks in flight: memory stays bounded."""
    pending: deque = deque()
    for chunk in chunks:
        pending.append(submit(chunk))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _worker_env():
    os.environ["MOLVAE_WORKER"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if "torch" in sys.modules:  # one torch thread per worker process
        sys.modules["torch"].set_num_threads(1)


@dataclass
class ScoreSummary:
    rows: int = 0
    valid: int = 0
    invalid: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    output: str = ""

    def line(self) -> str:
        bad = ", ".join(f"{k} {v}" for k, v in self.invalid.most_common())
        return (f"scored {self.rows} rows in {self.seconds:.1f}s ({self.rows / max(self.seconds, 1e-9):.0f} rows/s):"
                f" {self.valid} valid, {self.rows - self.valid} invalid" + (f" ({bad})" if bad else "")
                + f"; written to {self.output}")


def _check_request(chunk_size: int, engine: str, latent_path, with_model: bool, standardize: str) -> None:
    check_mode(standardize)
    if chunk_size <= 0:
        raise DataError("--chunk-size must be positive")
    if engine not in ("local", "dask"):
        raise DataError(f"unknown engine '{engine}' (local, dask)")
    if latent_path and not with_model:
        raise DataError("--latent needs a model (drop --no-model)")


class _Engine:
    """Where chunks are scored: in this process, in a pool of local processes, or on a Dask cluster.
    ``submit(chunk)`` returns something with ``result()``; ``window`` chunks at most are in flight."""

    def __init__(self, kind: str, workers: int, scheduler: str | None, args: tuple):
        self.args, self.pool, self.client, self.cluster = args, None, None, None
        self.window = 2 * workers
        if kind == "dask":
            from dask.distributed import Client, LocalCluster

            if scheduler:
                self.client = Client(scheduler)
            else:
                import logging

                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=logging.WARNING)
                self.client = Client(self.cluster)
            self.client.run(_worker_env)
        elif workers > 1:
            self.pool = process_pool(workers, initializer=_worker_env)
        else:
            self.window = 1

    def submit(self, chunk):
        if self.client is not None:
            return self.client.submit(score_chunk, chunk, *self.args, pure=False)
        if self.pool is not None:
            return self.pool.submit(score_chunk, chunk, *self.args)
        return Done(score_chunk(chunk, *self.args))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def score_file(input_path, output_path, model: str | None = None, with_model: bool = True,
               smiles_column: str | None = None, workers: int | None = None, chunk_size: int = 2000,
               latent_path=None, engine: str = "local", scheduler: str | None = None,
               progress: bool = True, device: str = "cpu", int8: bool = False, batch_size: int = 512,
               standardize: str = "off") -> ScoreSummary:
    """Score every row of a molecule file into output_path (all input columns kept, in input order); with
    latent_path also mu for every row. The work runs in chunks on the chosen engine; each worker loads the
    model on ``device`` (int8-quantized on the CPU with ``int8``), encoding ``batch_size`` molecules at once.
    ``standardize`` (off, parent, parent+tautomer) scores each molecule's standardized form (see
    molvae.chem.standardize); the output says what was done to each."""
    _check_request(chunk_size, engine, latent_path, with_model, standardize)
    workers = workers or available_cpus()
    col, chunks = iter_table(input_path, smiles_column, chunk_size)
    input_schema = None
    if str(input_path).lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        input_schema = pq.ParquetFile(input_path).schema_arrow
    writer = TableWriter(output_path, input_schema)
    latent = None
    if with_model:
        vae = _model(model, device, int8, batch_size)  # fail early on a bad model, before reading the file
        latent = LatentWriter(latent_path, vae.latent_dim) if latent_path else None
        model = (str(vae.path), device, int8, batch_size)
    from tqdm import tqdm

    summary = ScoreSummary(output=str(output_path))
    bar = tqdm(desc="score", unit="row", disable=not progress, mininterval=1)
    t = time.time()
    runner = None
    try:
        runner = _Engine(engine, workers, scheduler, (col, model, with_model, standardize))
        for out, mu, valid, err in _ordered(chunks, runner.submit, runner.window):
            writer.write(out)
            if latent is not None:
                latent.write(mu)
            summary.rows += len(out)
            summary.valid += int(valid.sum())
            summary.invalid.update(e.split(" (")[0] for e in err[~valid])
            bar.update(len(out))
        writer.close()
        if latent is not None:
            latent.close()
    except BaseException:
        writer.abort()
        if latent is not None:
            latent.abort()
        raise
    finally:
        bar.close()
        if runner is not None:
            runner.close()
    summary.seconds = time.time() - t
    return summary
