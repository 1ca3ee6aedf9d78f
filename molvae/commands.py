"""Subcommands that use a trained model: sample, reconstruct, score, evaluate, interpolate, explore, encode,
map, optimize. Each parses, calls the API, reports."""
from __future__ import annotations

import sys
import time


def _load(args):
    from .api import MolVAE

    return MolVAE.load(args.model, device=getattr(args, "device", "cpu"), int8=getattr(args, "int8", False))


def cmd_sample(args) -> int:
    from .data import check_output_path, write_table

    if args.output:
        check_output_path(args.output)
    if args.image:
        from . import viz

        viz._check_png(args.image)
    vae = _load(args)
    t = time.time()
    df = vae.sample(args.n, temperature=args.temperature, latent_scale=args.latent_scale, greedy=args.greedy,
                    seed=args.seed, keep_invalid=args.keep_invalid, relaxed=args.relaxed, rerank=args.rerank)
    secs = time.time() - t
    if args.output:
        write_table(df, args.output)
    else:
        for s in df["smiles"]:
            print(s)
    if args.image:
        head = df.head(30)
        viz.molecule_grid(head["smiles"], [f"{i}" for i in range(len(head))], args.image)
    valid = df["valid"].sum()
    uniq = df.loc[df["valid"], "smiles"].nunique()
    disc = df.attrs["discarded"]
    why = f" ({', '.join(f'{k}: {v}' for k, v in disc.items())})" if disc else ""
    print(f"sampled {len(df)} molecules in {secs:.1f}s: drew {df.attrs['drawn']}, discarded {sum(disc.values())}"
          f"{why}; valid {valid}/{len(df)}, unique {uniq}"
          + (f"; written to {args.output}" if args.output else ""), file=sys.stderr)
    if len(df) < args.n:
        print(f"molvae sample: error: only {len(df)} of {args.n} molecules passed the RDKit check",
              file=sys.stderr)
        return 1
    return 0


def cmd_reconstruct(args) -> int:
    from .data import check_output_path, read_table, write_table

    check_output_path(args.output)
    df, col = read_table(args.input, args.smiles_column)
    vae = _load(args)
    t = time.time()
    from .score import output_name

    rec = vae.reconstruct(df[col].tolist())
    for name in ("reconstruction", "recon_exact", "error"):
        df[output_name(name, set(map(str, df.columns)))] = rec[name].values
    write_table(df, args.output)
    encodable = (rec["error"] == "").sum()
    exact = rec["recon_exact"].sum()
    print(f"reconstructed {len(df)} rows in {time.time() - t:.1f}s: exact {exact}/{encodable} encodable"
          f" ({exact / max(1, encodable):.1%}), {len(df) - encodable} not encodable; written to {args.output}",
          file=sys.stderr)
    return 0


def cmd_score(args) -> int:
    from .score import score_file

    summary = score_file(args.input, args.output, model=args.model, with_model=not args.no_model,
                         smiles_column=args.smiles_column, workers=args.workers, chunk_size=args.chunk_size,
                         latent_path=args.latent, engine=args.engine, scheduler=args.scheduler,
                         progress=not args.quiet)
    print(summary.line(), file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    import json
    from pathlib import Path

    from . import metrics
    from .cli import UsageError
    from .data import read_smiles

    out = Path(args.output)
    if not out.parent.is_dir():
        raise UsageError(f"output directory does not exist: {out.parent}")
    if args.plots and not Path(args.plots).is_dir():
        Path(args.plots).mkdir(parents=True, exist_ok=True)
    gen = read_smiles(args.generated, args.smiles_column)
    if args.n:
        if len(gen) < args.n:
            raise UsageError(f"-n {args.n} asks for more molecules than {args.generated} holds ({len(gen)})")
        gen = gen[: args.n]
    if not gen:
        raise UsageError(f"no molecules in {args.generated}")
    if args.train:
        train = set(metrics.canonical_valid(read_smiles(args.train)))
    else:
        from .api import MolVAE
        from .checkpoint import load_training_set

        train = load_training_set(MolVAE.load(args.model).path)
    reference = read_smiles(args.reference) if args.reference else "moses_test"
    scaffold_ref = None if (args.reference or args.no_scaffold_reference) else "moses_test_scaffolds"
    log = (lambda m: None) if args.quiet else (lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    t = time.time()
    res = metrics.evaluate(gen, reference=reference, scaffold_reference=scaffold_ref, train=train, progress=log)
    values, quants = res.pop("_values"), res.pop("_ref_quantiles")
    res["seconds"] = round(time.time() - t, 1)
    res = {k: ((round(v, 4) if v == v and abs(v) != float("inf") else None) if isinstance(v, float) else v)
           for k, v in res.items()}
    out.write_text(json.dumps(res, indent=2) + "\n")
    if args.plots:
        metrics.plot_properties(values, quants, Path(args.plots) / "properties.png")
    keys = ["valid", "unique@10000", "novelty", "fcd", "snn", "frag", "scaf", "intdiv1", "filters"]
    print("  ".join(f"{k} {res[k]}" for k in keys if res.get(k) is not None) + f"; written to {out}",
          file=sys.stderr)
    return 0


def cmd_interpolate(args) -> int:
    from . import viz
    from .data import check_output_path, write_table

    check_output_path(args.output)
    if args.steps < 2:
        raise ValueError(f"--steps must be at least 2 (got {args.steps})")
    df = _load(args).interpolate(args.a, args.b, steps=args.steps, method=args.method)
    write_table(df, args.output)
    if args.image:
        viz.molecule_grid(df["smiles"], [f"{s}: {m}" if m else f"{s}: (invalid)"
                                         for s, m in zip(df["step"], df["smiles"])], args.image, per_row=5)
    ends = []
    if not df.attrs["reconstructs_a"]:
        ends.append(f"A does not reconstruct (decodes to {df['smiles'].iloc[0] or 'nothing valid'})")
    if not df.attrs["reconstructs_b"]:
        ends.append(f"B does not reconstruct (decodes to {df['smiles'].iloc[-1] or 'nothing valid'})")
    distinct = df.loc[df["valid"], "smiles"].nunique()
    print(f"{len(df)} steps, {int(df['valid'].sum())} valid, {distinct} distinct molecules; "
          + ("; ".join(ends) if ends else "the path starts at A and ends at B") + f"; written to {args.output}",
          file=sys.stderr)
    return 0


def cmd_explore(args) -> int:
    from . import viz
    from .data import check_output_path, write_table

    check_output_path(args.output)
    df = _load(args).neighbours(args.smiles, n=args.n, radius=args.radius, seed=args.seed)
    write_table(df, args.output)
    if args.image:
        viz.molecule_grid(df["smiles"], [f"d={d:.2f} T={s:.2f}" for d, s in zip(df["latent_distance"],
                                                                              df["similarity"])], args.image)
    uniq = df.loc[df["valid"] & ~df["same_as_input"], "smiles"].nunique()
    print(f"{len(df)} neighbours, {uniq} distinct analogues (not the input); written to {args.output}",
          file=sys.stderr)
    return 0


def cmd_encode(args) -> int:
    from pathlib import Path

    import numpy as np

    from .data import check_output_path, read_table, write_table

    out = Path(args.output)
    if out.suffix not in (".npy", ".parquet"):
        raise ValueError(f"output must be .npy or .parquet, got {out.name}")
    if out.suffix == ".parquet":
        check_output_path(out)
    elif not out.parent.is_dir():
        raise ValueError(f"output directory does not exist: {out.parent}")
    df, col = read_table(args.input, args.smiles_column)
    vae = _load(args)
    mu = vae.encode(df[col].tolist())
    if out.suffix == ".npy":
        tmp = out.with_name(f".{out.name}.tmp.npy")
        np.save(tmp, mu)
        tmp.replace(out)
    else:
        import pandas as pd

        table = pd.DataFrame(mu, columns=[f"z{i}" for i in range(mu.shape[1])])
        table.insert(0, "smiles", df[col].values)
        write_table(table, out)
    ok = int((~np.isnan(mu).any(1)).sum())
    print(f"encoded {ok}/{len(mu)} rows into {mu.shape[1]} dimensions (NaN rows where a molecule cannot be"
          f" encoded); written to {out}", file=sys.stderr)
    return 0


def cmd_map(args) -> int:
    import numpy as np

    from . import chem, latent, properties, viz
    from .data import read_table

    prop = properties.get(args.property)  # unknown names fail here, before any work
    viz._check_png(args.output)
    df, col = read_table(args.input, args.smiles_column)
    smiles = df[col].tolist()[: args.max_rows]
    mu = _load(args).encode(smiles)
    ok = ~np.isnan(mu).any(1)
    if ok.sum() < 3:
        raise ValueError("fewer than 3 molecules could be encoded; nothing to map")
    values = np.array([prop(chem.to_mol(s)) for s, k in zip(smiles, ok) if k], dtype=float)
    coords, var = latent.pca_2d(mu[ok].astype(np.float64))
    viz.latent_map(coords, values, args.property, args.output, var)
    print(f"mapped {int(ok.sum())} of {len(smiles)} molecules; written to {args.output}", file=sys.stderr)
    return 0


def cmd_optimize(args) -> int:
    import json
    from pathlib import Path

    from .cli import UsageError
    from .data import check_output_path, write_table
    from .optimize import check_request, optimize

    check_request(args.objective, args.budget, args.method, args.start, args.similarity_min, args.batch_size)
    for path in filter(None, [args.output, args.summary]):
        out = Path(path)
        if path == args.output:
            check_output_path(out)
        elif not out.parent.is_dir():
            raise UsageError(f"output directory does not exist: {out.parent}")
        probe = out.with_name(f".{out.name}.probe")
        try:
            probe.touch()
            probe.unlink()
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    vae = _load(args)
    res = optimize(vae, args.objective, args.budget, method=args.method, start=args.start,
                   similarity_min=args.similarity_min, seed=args.seed, batch_size=args.batch_size,
                   progress=not args.quiet)
    write_table(res.log, args.output)
    s = res.summary
    if args.summary:
        tmp = Path(args.summary).with_name(f".{Path(args.summary).name}.tmp")
        cols = ["call", "smiles", "score"] + (["similarity"] if args.start else [])
        best = res.best(10)[cols].to_dict("records")
        tmp.write_text(json.dumps({**s, "best": best}, indent=2, default=float) + "\n")
        tmp.replace(args.summary)
    fmt = lambda v: "n/a" if v is None else f"{v:.4g}"  # noqa: E731
    early = {"stalled": ", stopped early: no new molecules",
             "below_limit": f", stopped early: reached the limit of {s.get('below_limit')} molecules below the"
                            " similarity floor",
             }.get(s["stopped"], "")
    line = (f"{s['objective']} ({s['direction']}) by {s['method']}: {s['calls']} of {s['budget']} calls in "
            f"{s['seconds']:.1f}s ({s['repeats']} repeats answered from the cache, {s['invalid_decodes']} invalid"
            f" decodes{early}); "
            f"best {fmt(s['best_score'])} {s['best_smiles'] or ''}; top-10 mean {fmt(s['top10_mean'])}, "
            f"top-10 AUC {s['auc_top10']:.4f}")
    if args.start:
        line += (f"; start {s['start']} scores {fmt(s['start_score'])}, best with similarity >= "
                 f"{s['similarity_min']}: {fmt(s['best_score'])} (similarity {fmt(s['best_similarity'])}, "
                 f"improvement {fmt(s['improvement'])})")
    print(line + f"; written to {args.output}", file=sys.stderr)
    return 0


def add_commands(sub, add_model, positive, positive_float, unit_interval):
    p = sub.add_parser("sample", help="sample molecules from the prior")
    p.add_argument("-n", type=positive("-n"), default=10, help="number of molecules (default 10)")
    add_model(p)
    p.add_argument("--temperature", type=positive_float("--temperature"), default=1.0,
                   help="softmax temperature of the decoder (default 1.0)")
    p.add_argument("--latent-scale", type=positive_float("--latent-scale"), default=1.0,
                   help="standard deviation of the prior draws (default 1.0)")
    p.add_argument("--greedy", action="store_true", help="argmax decoding instead of sampling tokens")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep-invalid", action="store_true",
                   help="keep molecules RDKit rejects as rows with valid=False instead of drawing more")
    p.add_argument("-o", "--output", default=None, help="output table (.csv, .tsv, .parquet); default stdout")
    p.add_argument("--image", default=None, help="PNG grid of the first (up to 30) molecules")
    p.add_argument("--relaxed", action="store_true",
                   help="loosen SELFIES valence rules so RDKit rejects decoder mistakes (more draws, more realistic)")
    p.add_argument("--rerank", type=positive("--rerank"), default=1,
                   help="draw K times as many and keep the most likely per token (default 1: no re-ranking)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("reconstruct", help="encode and greedily decode each molecule of a file")
    p.add_argument("input", help="molecule file (.csv, .tsv, .smi, their .gz, .parquet)")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--smiles-column", default=None)
    add_model(p)
    p.set_defaults(func=cmd_reconstruct)

    p = sub.add_parser("score", help="score every row of a molecule file: validity, properties, alerts, VAE scores")
    p.add_argument("input", help="molecule file (.csv, .tsv, .smi, .sdf, their .gz, .parquet)")
    p.add_argument("-o", "--output", required=True, help="output table (.csv, .tsv, .csv.gz, .parquet)")
    add_model(p, runtime=False)
    p.add_argument("--no-model", action="store_true", help="chemistry only: skip the VAE columns")
    p.add_argument("--smiles-column", default=None)
    p.add_argument("--workers", type=positive("--workers"), default=None, help="processes (default: all cores)")
    p.add_argument("--chunk-size", type=positive("--chunk-size"), default=2000, help="rows per chunk")
    p.add_argument("--latent", default=None, help="write mu for each row to this .npy (NaN rows where not encodable)")
    p.add_argument("--engine", choices=["local", "dask"], default="local")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("evaluate", help="MOSES metrics of a file of generated molecules")
    p.add_argument("generated", help="generated molecules (.csv, .smi, ...)")
    p.add_argument("-o", "--output", required=True, help="metrics JSON")
    p.add_argument("--reference", default=None, help="reference set (default: the MOSES test split)")
    p.add_argument("--no-scaffold-reference", action="store_true", help="skip the MOSES scaffold-test metrics")
    p.add_argument("--train", default=None, help="training set for novelty (default: the model's training set)")
    add_model(p, runtime=False)
    p.add_argument("--smiles-column", default=None)
    p.add_argument("-n", type=positive("-n"), default=None, help="use the first N molecules")
    p.add_argument("--plots", default=None, help="directory for a PNG of property histograms")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("interpolate", help="decode the path between two molecules' latents")
    p.add_argument("a", help="start molecule (SMILES)")
    p.add_argument("b", help="end molecule (SMILES)")
    p.add_argument("--steps", type=int, default=10, help="points on the path, ends included (default 10)")
    p.add_argument("--method", choices=["linear", "slerp"], default="linear")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--image", default=None, help="PNG grid of the path")
    add_model(p)
    p.set_defaults(func=cmd_interpolate)

    p = sub.add_parser("explore", help="decode random neighbours of a molecule's latent (analogues)")
    p.add_argument("smiles")
    p.add_argument("-n", type=positive("-n"), default=20)
    p.add_argument("--radius", type=positive_float("--radius"), default=1.0, help="latent distance (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--image", default=None, help="PNG grid of the neighbours")
    add_model(p)
    p.set_defaults(func=cmd_explore)

    p = sub.add_parser("encode", help="write mu for every row of a molecule file (.npy or .parquet)")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--smiles-column", default=None)
    add_model(p)
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("map", help="PNG of a 2-D PCA of the latents, coloured by a property")
    p.add_argument("input")
    p.add_argument("--property", default="qed", help="a property name (qed, logp, sa, mw, tpsa, plogp, ...)")
    p.add_argument("-o", "--output", required=True, help="PNG path")
    p.add_argument("--smiles-column", default=None)
    p.add_argument("--max-rows", type=positive("--max-rows"), default=20000)
    add_model(p)
    p.set_defaults(func=cmd_map)

    p = sub.add_parser("optimize", help="optimize an objective in latent space under an oracle budget")
    p.add_argument("--objective", required=True,
                   help="qed, logp, sa, plogp, plogp_norm, a PMO task, similarity:<SMILES>, isomer:<formula>, "
                        "smarts:<SMARTS>, a .toml file or module:function")
    p.add_argument("--budget", type=positive("--budget"), required=True,
                   help="distinct molecules the objective may score (repeats are free)")
    p.add_argument("--method", choices=["bo", "gradient", "random"], default="bo")
    p.add_argument("--start", default=None, help="start molecule (SMILES): search around it")
    p.add_argument("--similarity-min", type=unit_interval("--similarity-min"), default=None,
                   help="Tanimoto floor to the start for reported molecules (default 0.4 with --start)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=positive("--batch-size"), default=None,
                   help="latent points per step (default: 500 for random, budget/40 in [10, 100] otherwise)")
    p.add_argument("-o", "--output", required=True, help="call log (.csv, .tsv, .parquet): one row per oracle call")
    p.add_argument("--summary", default=None,
                   help="also write the run summary as JSON (best score and molecule, the 10 best, top-10 AUC, time)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model(p)
    p.set_defaults(func=cmd_optimize)
