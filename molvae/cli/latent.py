"""`molvae interpolate`, `explore` and `map`: walking the latent space."""
from __future__ import annotations

from .common import (UsageError, add_model, add_smiles_column, add_standardize, load, positive, positive_float, report,
                     standardized)


def cmd_interpolate(args) -> int:
    from ..latent import space as latent
    from ..io import plots as viz
    from ..io.tables import check_output_path, write_table

    check_output_path(args.output)
    if args.steps < 2:
        raise UsageError(f"--steps must be at least 2 (got {args.steps})")
    df = latent.interpolate(load(args), args.a, args.b, steps=args.steps, method=args.method)
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
    report(f"{len(df)} steps, {int(df['valid'].sum())} valid, {distinct} distinct molecules; "
           + ("; ".join(ends) if ends else "the path starts at A and ends at B") + f"; written to {args.output}")
    return 0


def cmd_explore(args) -> int:
    from ..latent import space as latent
    from ..io import plots as viz
    from ..io.tables import check_output_path, write_table

    check_output_path(args.output)
    df = latent.explore(load(args), args.smiles, n=args.n, radius=args.radius, seed=args.seed)
    write_table(df, args.output)
    if args.image:
        viz.molecule_grid(df["smiles"], [f"d={d:.2f} T={s:.2f}" for d, s in zip(df["latent_distance"],
                                                                              df["similarity"])], args.image)
    uniq = df.loc[df["valid"] & ~df["same_as_input"], "smiles"].nunique()
    report(f"{len(df)} neighbours, {uniq} distinct analogues (not the input); written to {args.output}")
    return 0


def cmd_map(args) -> int:
    import numpy as np
    from tqdm import tqdm

    from ..chem import mol as chem, properties
    from ..latent import space as latent
    from ..io import plots as viz
    from ..io.tables import iter_table

    prop = properties.get(args.property)  # unknown names fail here, before any work
    viz.check_png(args.output)
    col, chunks = iter_table(args.input, args.smiles_column, chunk_size=min(args.max_rows, 2_000))
    vae = load(args)
    mus, values, read = [], [], 0
    bar = tqdm(total=args.max_rows, desc="map", unit="mol", disable=args.quiet or None, mininterval=1)
    for chunk in chunks:  # only the first --max-rows rows are read, encoded a chunk at a time
        smiles = standardized(args, chunk[col].tolist()[: args.max_rows - read])
        mu = vae.encode(smiles)
        ok = ~np.isnan(mu).any(1)
        mus.append(mu[ok])
        values += [prop(chem.to_mol(s)) for s, k in zip(smiles, ok) if k]
        read += len(smiles)
        bar.update(len(smiles))
        if read >= args.max_rows:
            break
    bar.close()
    if len(values) < 3:
        raise UsageError("fewer than 3 molecules could be encoded; nothing to map")
    coords, var = latent.pca_2d(np.concatenate(mus).astype(np.float64))
    viz.latent_map(coords, np.array(values, dtype=float), args.property, args.output, var)
    report(f"mapped {len(values)} of {read} molecules; written to {args.output}")
    return 0


def _add_table_and_image(p, func, row: str, grid: str) -> None:
    """-o (a table, one row per `row`), --image (a PNG grid of `grid`), the model options and the command."""
    p.add_argument("-o", "--output", required=True, help=f"output table (.csv, .tsv, .parquet): one row per {row}")
    p.add_argument("--image", default=None, help=f"PNG grid of {grid}")
    add_model(p)
    p.set_defaults(func=func)


def register(sub) -> None:
    p = sub.add_parser("interpolate", help="decode the path between two molecules' latents")
    p.add_argument("a", help="start molecule (SMILES)")
    p.add_argument("b", help="end molecule (SMILES)")
    p.add_argument("--steps", type=int, default=10, help="points on the path, ends included (default 10)")
    p.add_argument("--method", choices=["linear", "slerp"], default="linear",
                   help="a straight line between the latents (default) or spherical interpolation")
    _add_table_and_image(p, cmd_interpolate, "step", "the path")

    p = sub.add_parser("explore", help="decode random neighbours of a molecule's latent (analogues)")
    p.add_argument("smiles", help="the molecule (SMILES)")
    p.add_argument("-n", type=positive("-n"), default=20, help="neighbours to decode (default 20)")
    p.add_argument("--radius", type=positive_float("--radius"), default=1.0, help="latent distance (default 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the neighbours (default 0)")
    _add_table_and_image(p, cmd_explore, "neighbour", "the neighbours")

    p = sub.add_parser("map", help="PNG of a 2-D PCA of the latents, coloured by a property")
    p.add_argument("input", help="molecule file (.csv, .tsv, .smi, .sdf, their .gz, .parquet)")
    p.add_argument("--property", default="qed", help="a property name (qed, logp, sa, mw, tpsa, plogp, ...)")
    p.add_argument("-o", "--output", required=True, help="PNG path")
    add_smiles_column(p)
    p.add_argument("--max-rows", type=positive("--max-rows"), default=20000,
                   help="map the first N rows of the file (default 20,000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_standardize(p)
    add_model(p)
    p.set_defaults(func=cmd_map)
