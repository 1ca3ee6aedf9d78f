"""Batch scoring of molecule files: streamed in chunks, scored in parallel (local processes or Dask), every
input row kept in input order with all its columns, written atomically.

The per-chunk function `score_chunk` is the unit of work for both engines, so a Dask cluster computes
exactly what the local engine computes.
"""
from __future__ import annotations

import gzip
import os
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import chem, properties, sdf
from .data import DataError, check_output_path, iter_table
from .files import Pending, atomic_path

PROPERTY_COLUMNS = ["mw", "logp", "qed", "sa", "tpsa", "hbd", "hba", "rotatable_bonds", "rings", "plogp",
                    "lipinski_violations"]
CHEM_COLUMNS = ["canonical_smiles", "valid", "error", *PROPERTY_COLUMNS, "pains", "alerts"]
MODEL_COLUMNS = ["in_vocab", "nll", "recon_exact", "novel"]


# -- per-molecule and per-chunk work ----------------------------------------------------------------------
def score_smiles(smiles: list) -> pd.DataFrame:
    """Chemistry columns for each SMILES (or RDKit Mol): canonical form, validity with a reason, properties,
    alerts."""
    rows = []
    for s in chem.as_smiles(smiles):
        mol, why = chem.check_smiles(s)
        if mol is None:
            rows.append({"canonical_smiles": "", "valid": False, "error": why, "pains": "", "alerts": ""})
            continue
        row = {"canonical_smiles": chem.mol_to_smiles(mol), "valid": True, "error": ""}
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


def score_with_model(vae, canonical: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """in_vocab, nll (negative ELBO in nats, at the posterior mean), recon_exact, novel, and pred_<name> for
    each property the model's head predicts (from mu); and mu."""
    n = len(canonical)
    seqs, reasons = vae.tokenize([c if c else None for c in canonical])
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
        "nll": np.round(nll, 4),
        "recon_exact": [bool(c) and r == c for r, c in zip(rec, canonical)],
        "novel": pd.array([None if novel is None or not c else bool(v)
                           for v, c in zip(novel if novel is not None else canonical, canonical)], dtype="boolean"),
    })
    if vae.properties:
        pred = vae.predict_latent(mu)
        for j, name in enumerate(vae.properties):
            df[f"pred_{name}"] = np.round(pred[:, j].astype(np.float64), 4)
    return df, mu


def output_name(col: str, taken) -> str:
    """Our column's name in the output: itself, or molvae_<col> (molvae2_<col>, ...) when the input has it."""
    name, k = col, 1
    while name in taken:
        name = f"molvae{'' if k == 1 else k}_{col}"
        k += 1
    return name


def score_chunk(chunk: pd.DataFrame, smiles_column: str, model: tuple | None, with_model: bool):
    """Score one chunk; ``model``: (path, device, int8, batch size). Returns (chunk with the score columns
    added, mu or None, valid, error)."""
    scores = score_smiles(chunk[smiles_column].tolist())
    if sdf.READ_ERROR in chunk.columns:  # an SD record that could not be read says why, not "empty"
        unread = (chunk[sdf.READ_ERROR].fillna("") != "").to_numpy()
        scores.loc[unread, "error"] = chunk[sdf.READ_ERROR].to_numpy()[unread]
    mu = None
    if with_model:
        mscores, mu = score_with_model(_model(*model), scores["canonical_smiles"].tolist())
        scores = pd.concat([scores, mscores], axis=1)
    out = chunk.reset_index(drop=True).copy()
    taken = set(map(str, chunk.columns))
    for col in scores.columns:
        name = output_name(col, taken)
        taken.add(name)
        out[name] = scores[col].values
    return out, mu, scores["valid"].to_numpy(), scores["error"].to_numpy()


# -- streaming writers ------------------------------------------------------------------------
SCORE_TYPES = {"canonical_smiles": "string", "valid": "bool_", "error": "string", "pains": "string",
               "alerts": "string", "in_vocab": "bool_", "recon_exact": "bool_", "novel": "bool_",
               **{c: "float64" for c in ("mw", "logp", "qed", "sa", "tpsa", "plogp", "nll")},
               **{c: "int64" for c in ("hbd", "hba", "rotatable_bonds", "rings", "lipinski_violations")}}


def _parquet_schema(df: pd.DataFrame, input_schema):
    """Types that hold for every chunk: ours are fixed, the input's come from its own schema (parquet) or are
    strings (text files); a column that is all-null in the first chunk no longer decides its type."""
    import pyarrow as pa

    inferred = pa.Schema.from_pandas(df, preserve_index=False)
    fields = []
    for name in df.columns:
        name = str(name)
        base = name.split("_", 1)[1] if name.startswith("molvae") and "_" in name else name
        if input_schema is not None and name in input_schema.names:
            fields.append(input_schema.field(name))
        elif base in SCORE_TYPES and (input_schema is None or name not in input_schema.names):
            fields.append(pa.field(name, getattr(pa, SCORE_TYPES[base])()))
        elif base.startswith("pred_"):  # the property head's predictions
            fields.append(pa.field(name, pa.float64()))
        else:
            typ = inferred.field(name).type
            fields.append(pa.field(name, pa.string() if pa.types.is_null(typ) else typ))
    return pa.schema(fields)


class TableWriter:
    """Append chunks to a temporary file; `close()` renames it into place (`abort()` removes it)."""

    def __init__(self, path, input_schema=None):
        self.input_schema = input_schema  # a parquet input's Arrow schema, so its columns keep their types
        self.path = Path(path)
        self.kind = check_output_path(self.path)
        self.out = Pending(self.path)
        self.tmp = self.out.tmp
        self._pq = self._fh = self._schema = None

    def write(self, df: pd.DataFrame) -> None:
        if self.kind == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._pq is None:
                self._schema = _parquet_schema(df, self.input_schema)
                self._pq = pq.ParquetWriter(self.tmp, self._schema)
            self._pq.write_table(pa.Table.from_pandas(df, schema=self._schema, preserve_index=False))
        else:
            if self._fh is None:
                gz = self.path.name.lower().endswith(".gz")
                self._fh = gzip.open(self.tmp, "wt", newline="") if gz else open(self.tmp, "w", newline="")
                header = True
            else:
                header = False
            if self.kind == ".sdf":
                sdf.write_records(df, self._fh)
            else:
                df.to_csv(self._fh, index=False, header=header, sep="\t" if self.kind == ".tsv" else ",")

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            self._fh.close()
        if self._pq is None and self._fh is None:
            raise DataError("no rows to write")
        self.out.commit()

    def abort(self) -> None:
        for h in (self._pq, self._fh):
            try:
                if h is not None:
                    h.close()
            except Exception:
                pass
        self.out.abort()


class LatentWriter:
    """mu rows streamed to a raw temporary file, then written as one .npy aligned with the output rows."""

    def __init__(self, path, dim: int):
        self.path = Path(path)
        if self.path.suffix != ".npy":
            raise DataError(f"--latent must name a .npy file, got {self.path.name}")
        if not self.path.parent.is_dir():
            raise DataError(f"output directory does not exist: {self.path.parent}")
        self.dim, self.rows = dim, 0
        self.raw = self.path.with_name(f".{self.path.name}.raw")
        self._fh = open(self.raw, "wb")

    def write(self, mu: np.ndarray) -> None:
        self._fh.write(np.ascontiguousarray(mu, dtype=np.float32).tobytes())
        self.rows += len(mu)

    def close(self) -> None:
        self._fh.close()
        with atomic_path(self.path, suffix=".npy") as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(self.rows, self.dim))
            src = np.memmap(self.raw, dtype=np.float32, mode="r", shape=(self.rows, self.dim)) if self.rows else None
            for s in range(0, self.rows, 100_000):
                out[s : s + 100_000] = src[s : s + 100_000]
            out.flush()
            del out, src
        self.raw.unlink(missing_ok=True)

    def abort(self) -> None:
        self._fh.close()
        self.raw.unlink(missing_ok=True)


# -- engines ----------------------------------------------------------------------------------------------
class _Done:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


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
    if "torch" in sys.modules:  # a forked worker shares its parent's (maybe cached) model: one thread each
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


def _check_request(chunk_size: int, engine: str, latent_path, with_model: bool) -> None:
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
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
            self.pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_env)
        else:
            self.window = 1

    def submit(self, chunk):
        if self.client is not None:
            return self.client.submit(score_chunk, chunk, *self.args, pure=False)
        if self.pool is not None:
            return self.pool.submit(score_chunk, chunk, *self.args)
        return _Done(score_chunk(chunk, *self.args))

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
               progress: bool = True, device: str = "cpu", int8: bool = False, batch_size: int = 512) -> ScoreSummary:
    """Score every row of a molecule file into output_path (all input columns kept, in input order); with
    latent_path also mu for every row. The work runs in chunks on the chosen engine; each worker loads the
    model on ``device`` (int8-quantized on the CPU with ``int8``), encoding ``batch_size`` molecules at once."""
    _check_request(chunk_size, engine, latent_path, with_model)
    workers = workers or os.cpu_count() or 1
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
        runner = _Engine(engine, workers, scheduler, (col, model, with_model))
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
