"""`molvae reconstruct`, `score`, `evaluate` and `encode`: commands over a file of molecules."""
from __future__ import annotations

import time
from pathlib import Path

from .common import UsageError, add_model, add_smiles_column, add_standardize, add_workers, load, positive, refuse_unused, report, runtime, standardized


def _stream(args, desc: str, writer, work) -> None:
    """Read the input chunk by chunk, write work(chunk, molecules) for each (with a progress bar), and rename
    the output into place at the end (removed if anything fails). With --standardize the chunk gains the
    standardization columns and the molecules are the standardized ones."""
    from tqdm import tqdm

    from ..io.tables import iter_table, output_name
    from ..chem.standardize import apply

    col, chunks = iter_table(args.input, args.smiles_column, chunk_size=args.chunk_size)
    bar = tqdm(desc=desc, unit="row", disable=args.quiet or None, mininterval=1)
    try:
        for chunk in chunks:
            writer.write(work(*apply(chunk, col, args.standardize, output_name)))
            bar.update(len(chunk))
        writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()


def cmd_reconstruct(args) -> int:
    from collections import Counter

    from ..score import output_name
    from ..io.writers import TableWriter

    writer = TableWriter(args.output)  # checks the output path before any work
    vae = load(args)
    t, n = time.time(), Counter()

    def work(chunk, molecules):
        rec = vae.reconstruct(molecules)
        for name in ("reconstruction", "recon_exact", "stereo_removed", "error"):
            chunk[output_name(name, set(map(str, chunk.columns)))] = rec[name].values
        n.update(rows=len(chunk), encodable=int((rec["error"] == "").sum()), exact=int(rec["recon_exact"].sum()))
        return chunk

    _stream(args, "reconstruct", writer, work)
    report(f"reconstructed {n['rows']} rows in {time.time() - t:.1f}s: exact {n['exact']}/{n['encodable']} encodable"
           f" ({n['exact'] / max(1, n['encodable']):.1%}), {n['rows'] - n['encodable']} not encodable;"
           f" written to {args.output}")
    return 0


def cmd_score(args) -> int:
    from ..score import score_file

    if args.engine != "dask":
        refuse_unused(args, {"scheduler": "--scheduler"}, "with --engine local")
    if args.no_model:
        refuse_unused(args, {"model": "--model", "device": "--device", "int8": "--int8",
                             "model_batch_size": "--batch-size"}, "with --no-model")
    rt = runtime(args)

    summary = score_file(args.input, args.output, model=args.model, with_model=not args.no_model,
                         smiles_column=args.smiles_column, workers=args.workers, chunk_size=args.chunk_size,
                         latent_path=args.latent, engine=args.engine, scheduler=args.scheduler,
                         progress=not args.quiet, device=rt["device"], int8=rt["int8"],
                         batch_size=rt["batch_size"], standardize=args.standardize)
    report(summary.line())
    return 0


def _training_set(args, log):
    """Novelty's reference: the hashes of --train's canonical molecules (cached per file), or the model's."""
    from ..metrics import moses as metrics

    if args.train:
        return metrics.training_hashes(args.train, args.workers, log)
    from ..api import MolVAE
    from ..model.checkpoint import load_training_set

    return load_training_set(MolVAE.load(args.model).path)


def cmd_evaluate(args) -> int:
    from ..metrics import moses as metrics
    from ..model.device import pick_device
    from ..io.tables import read_smiles
    from ..io.atomic import write_json

    out = Path(args.output)
    if not out.parent.is_dir():
        raise UsageError(f"output directory does not exist: {out.parent}")
    if args.plots and not Path(args.plots).is_dir():
        Path(args.plots).mkdir(parents=True, exist_ok=True)
    gen = standardized(args, read_smiles(args.generated, args.smiles_column))
    if args.n:
        if len(gen) < args.n:
            raise UsageError(f"-n {args.n} asks for more molecules than {args.generated} holds ({len(gen)})")
        gen = gen[: args.n]
    if not gen:
        raise UsageError(f"no molecules in {args.generated}")
    log = (lambda m: None) if args.quiet else (lambda m: report(f"  {m}"))
    t = time.time()
    train = _training_set(args, log)
    reference = read_smiles(args.reference) if args.reference else "moses_test"
    scaffold_ref = None if (args.reference or args.no_scaffold_reference) else "moses_test_scaffolds"
    res = metrics.evaluate(gen, reference=reference, scaffold_reference=scaffold_ref, train=train, progress=log,
                           workers=args.workers, device=pick_device(args.device), batch_size=args.batch_size)
    values, quants = res.pop("_values"), res.pop("_ref_quantiles")
    res["seconds"] = round(time.time() - t, 1)
    res = {k: ((round(v, 4) if v == v and abs(v) != float("inf") else None) if isinstance(v, float) else v)
           for k, v in res.items()}
    write_json(out, res)
    if args.plots:
        metrics.plot_properties(values, quants, Path(args.plots) / "properties.png")
    keys = ["valid", "unique@10000", "novelty", "fcd", "snn", "frag", "scaf", "intdiv1", "filters"]
    report("  ".join(f"{k} {res[k]}" for k in keys if res.get(k) is not None) + f"; written to {out}")
    return 0


def cmd_encode(args) -> int:
    from collections import Counter

    import numpy as np
    import pandas as pd

    from ..io.writers import LatentWriter, TableWriter

    out = Path(args.output)
    if out.suffix not in (".npy", ".parquet"):
        raise UsageError(f"output must be .npy or .parquet, got {out.name}")
    vae = load(args)
    writer = LatentWriter(out, vae.latent_dim) if out.suffix == ".npy" else TableWriter(out)
    n = Counter()

    def work(chunk, molecules):
        mu = vae.encode(molecules)
        n.update(rows=len(mu), ok=int((~np.isnan(mu).any(1)).sum()))
        if out.suffix == ".npy":
            return mu
        table = pd.DataFrame(mu, columns=[f"z{i}" for i in range(mu.shape[1])])
        table.insert(0, "smiles", molecules)
        return table

    _stream(args, "encode", writer, work)
    report(f"encoded {n['ok']}/{n['rows']} rows into {vae.latent_dim} dimensions (NaN rows where a molecule cannot"
           f" be encoded); written to {out}")
    return 0


def _add_stream_options(p) -> None:
    p.add_argument("--chunk-size", type=positive("--chunk-size"), default=10_000,
                   help="rows read at a time (the file is streamed; default 10,000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_standardize(p)


def _add_streamed(sub, name: str, func, help: str, input_help: str, output_help: str) -> None:
    """A command that streams a molecule file through the model into one output (reconstruct, encode)."""
    p = sub.add_parser(name, help=help)
    p.add_argument("input", help=input_help)
    p.add_argument("-o", "--output", required=True, help=output_help)
    add_smiles_column(p)
    add_model(p)
    _add_stream_options(p)
    p.set_defaults(func=func)


def register(sub) -> None:
    _add_streamed(sub, "reconstruct", cmd_reconstruct, "encode and greedily decode each molecule of a file",
                  "molecule file (.csv, .tsv, .smi, their .gz, .parquet)",
                  "output table (.csv, .tsv, .parquet): the input's columns and the reconstruction's")

    p = sub.add_parser("score", help="score every row of a molecule file: validity, properties, alerts, VAE scores")
    p.add_argument("input", help="molecule file (.csv, .tsv, .smi, .sdf, their .gz, .parquet)")
    p.add_argument("-o", "--output", required=True, help="output table (.csv, .tsv, .csv.gz, .parquet)")
    add_model(p)
    p.add_argument("--no-model", action="store_true", help="chemistry only: skip the VAE columns")
    add_smiles_column(p)
    add_workers(p, "scoring chunks (local engine) or Dask workers started (LocalCluster)")
    p.add_argument("--chunk-size", type=positive("--chunk-size"), default=2000, help="rows per chunk")
    p.add_argument("--latent", default=None, help="write mu for each row to this .npy (NaN rows where not encodable)")
    p.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="where chunks are scored: local processes (default) or a Dask cluster (--scheduler)")
    p.add_argument("--scheduler", default=None,
                   help="with --engine dask: a Dask scheduler address (default: a LocalCluster on this machine)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_standardize(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("evaluate", help="MOSES metrics of a file of generated molecules")
    p.add_argument("generated", help="generated molecules (.csv, .smi, ...)")
    p.add_argument("-o", "--output", required=True, help="metrics JSON")
    p.add_argument("--reference", default=None, help="reference set (default: the MOSES test split)")
    p.add_argument("--no-scaffold-reference", action="store_true", help="skip the MOSES scaffold-test metrics")
    p.add_argument("--train", default=None, help="training set for novelty (default: the model's training set)")
    add_model(p, runtime=False)
    add_smiles_column(p)
    p.add_argument("-n", type=positive("-n"), default=None, help="use the first N molecules")
    p.add_argument("--plots", default=None, help="directory for a PNG of property histograms")
    add_workers(p, "for the per-molecule work")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "mps", "auto"],
                   help="where ChemNet runs for FCD (default: cpu); evaluate does not run the VAE")
    p.add_argument("--batch-size", type=positive("--batch-size"), default=256,
                   help="molecules ChemNet reads at once (default 256)")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    add_standardize(p)
    p.set_defaults(func=cmd_evaluate)

    _add_streamed(sub, "encode", cmd_encode, "write mu for every row of a molecule file (.npy or .parquet)",
                  "molecule file (.csv, .tsv, .smi, .sdf, their .gz, .parquet)",
                  ".npy (one row of mu per input row) or .parquet (smiles and z0, z1, ... columns)")
