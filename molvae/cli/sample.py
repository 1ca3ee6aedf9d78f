"""`molvae sample`, `molvae fit-prior` and `molvae fit-critic`."""
from __future__ import annotations

import time

from .common import SHORTFALL, UsageError, add_model, add_smiles_column, add_standardize, load, non_negative, positive, positive_float, refuse_unused, report, standardized


GUIDED_IGNORES = {"latent_scale": "--latent-scale", "keep_invalid": "--keep-invalid", "rerank": "--rerank",
                  "refine": "--refine", "rank": "--rank",
                  "relaxed": {True: "--relaxed", False: "--strict"}, "workers": "--workers", "quiet": "--quiet"}


def _draw(args, vae, conditions, filters):
    """The molecules asked for: guided by the conditions when there are any, else plain prior samples (the
    options left unset take their defaults)."""
    from ..chem.pools import available_cpus

    if conditions:
        from ..sampling.guided import sample_where

        return sample_where(vae, args.n, conditions, seed=args.seed, prior=args.prior, greedy=args.greedy,
                            temperature=args.temperature, filters=filters, max_draws=args.max_draws,
                            novel=args.novel, local_scale=args.local_scale or 0.0)
    return vae.sample(args.n, temperature=args.temperature, latent_scale=args.latent_scale or 1.0,
                      greedy=args.greedy, seed=args.seed, keep_invalid=bool(args.keep_invalid), relaxed=args.relaxed,
                      rerank=args.rerank, progress=not args.quiet, prior=args.prior, filters=filters,
                      max_draws=args.max_draws, workers=args.workers or available_cpus(), refine=args.refine,
                      rank=args.rank)


def cmd_sample(args) -> int:
    from ..io import plots as viz
    from ..io.tables import check_output_path, write_table
    from ..sampling.guided import parse_condition
    from ..metrics.moses import filter_function

    if args.output:
        check_output_path(args.output)
    if args.image:
        viz.check_png(args.image)
    conditions = [parse_condition(w) for w in args.where or []]  # a bad condition fails before any work
    if args.novel and not conditions:
        raise UsageError("--novel works with --where (guided sampling)")
    if args.local_scale is not None and not conditions:
        raise UsageError("--local-scale works with --where (guided sampling)")
    if conditions:
        refuse_unused(args, GUIDED_IGNORES, "with --where (guided sampling)")
    filters = filter_function(args.filters)
    vae = load(args)
    t = time.time()
    df = _draw(args, vae, conditions, filters)
    secs = time.time() - t
    if args.output:
        write_table(df, args.output)
    else:
        for s in df["smiles"]:
            print(s)
    if args.image:
        head = df.head(30)
        viz.molecule_grid(head["smiles"], [f"{i}" for i in range(len(head))], args.image)
    disc, drawn = df.attrs["discarded"], df.attrs["drawn"]
    why = f" ({', '.join(f'{k}: {v}' for k, v in disc.items())})" if disc else ""
    where = (f"; {len(df)} hits meeting {', '.join(df.attrs['conditions'])} in {drawn} draws"
             f" (hit rate {len(df) / max(drawn, 1):.1%})") if conditions else ""
    valid = int(df["valid"].sum()) if "valid" in df else len(df)
    report(f"sampled {len(df)} molecules in {secs:.1f}s: drew {drawn}, discarded {sum(disc.values())}{why};"
           f" valid {valid}/{len(df)}, unique {df['smiles'][df['smiles'] != ''].nunique()}{where}"
           + (f"; written to {args.output}" if args.output else ""))
    if len(df) < args.n:
        what = "met the conditions" if conditions else "passed the RDKit check" + (" and the filters" if filters else "")
        report(f"molvae sample: error: only {len(df)} of {args.n} molecules {what} after {drawn} draws")
        return SHORTFALL
    return 0


def register(sub) -> None:
    _sample_parser(sub)
    _fit_prior_parser(sub)
    _fit_critic_parser(sub)


def _sample_parser(sub) -> None:
    p = sub.add_parser("sample", help="sample molecules from the prior")
    p.add_argument("-n", type=positive("-n"), default=10, help="number of molecules (default 10)")
    add_model(p)
    p.add_argument("--temperature", type=positive_float("--temperature"), default=1.0,
                   help="softmax temperature of the decoder (default 1.0)")
    p.add_argument("--latent-scale", type=positive_float("--latent-scale"), default=None,
                   help="standard deviation of the prior draws (default 1.0; not with --where)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--greedy", action="store_true", default=None,
                      help="argmax decoding (the default with a learned prior)")
    mode.add_argument("--sampled", dest="greedy", action="store_false", default=None,
                      help="draw tokens at --temperature (the default from N(0, I))")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same molecules (default 0)")
    p.add_argument("--keep-invalid", action="store_true", default=None,
                   help="keep molecules RDKit rejects as rows with valid=False instead of drawing more (not with"
                        " --where)")
    p.add_argument("-o", "--output", default=None, help="output table (.csv, .tsv, .parquet); default stdout")
    p.add_argument("--image", default=None, help="PNG grid of the first (up to 30) molecules")
    p.add_argument("--quiet", action="store_true", default=None, help="no progress bar (not with --where, which"
                                                                      " shows none)")
    p.add_argument("--workers", type=positive("--workers"), default=None,
                   help="processes turning SELFIES into SMILES and checking them with RDKit while the GRU decodes"
                        " (default: the CPUs this process may use; the molecules are the same for any number;"
                        " not with --where)")
    strict = p.add_mutually_exclusive_group()
    strict.add_argument("--relaxed", action="store_true", default=None,
                        help="loosen SELFIES valence rules so RDKit rejects decoder mistakes instead of SELFIES"
                             " repairing them (more draws, more realistic); the default with a learned prior and"
                             " greedy decoding; not with --where")
    strict.add_argument("--strict", dest="relaxed", action="store_false", default=None,
                        help="SELFIES's own valence rules: every decode is kept (the default otherwise; not with"
                             " --where)")
    p.add_argument("--rerank", type=positive("--rerank"), default=None,
                   help="draw K times as many and keep the most likely per token (default 1, or what the model's"
                        " learned prior was chosen with: its prior.json's sampling; not with --where)")
    p.add_argument("--refine", type=non_negative("--refine"), default=None, metavar="C",
                   help="pass each molecule C times through the autoencoder (re-encoded, its mu decoded greedily):"
                        " fewer broken rings and radicals, at about the same novelty (default 0, or what the"
                        " model's learned prior was chosen with; not with --where)")
    p.add_argument("--rank", choices=["likelihood", "critic"], default=None,
                   help="what --rerank keeps: the most likely per token, or what the model's realism critic"
                        " (molvae fit-critic) scores most data-like after refining every draw (default: likelihood,"
                        " or what the model's learned prior was chosen with; not with --where)")
    p.add_argument("--where", action="append", default=None, metavar="CONDITION",
                   help="keep only molecules meeting it, by RDKit's value: 'qed >= 0.8', '2 <= logp <= 3' (repeat"
                        " for several; the property head steers the draws)")
    p.add_argument("--local-scale", type=positive_float("--local-scale"), default=None, metavar="SCALE",
                   help="with --where: also draw near the latents of earlier hits, at this scale (e.g. 0.5): more"
                        " hits per decode on rare conditions, less realistic hits (default: off)")
    p.add_argument("--novel", action="store_true",
                   help="with --where: discard the model's own training molecules (counted among the discards)")
    p.add_argument("--filters", choices=["moses", "pains", "none"], default="none",
                   help="discard molecules failing the MOSES filters or RDKit's PAINS alerts (default: none)")
    p.add_argument("--max-draws", type=positive("--max-draws"), default=None,
                   help="molecules decoded at most (default 10 x n, at least 1,000; with --where 200 x n, at least"
                        " 10,000): past it the ones found are written and the exit status is 3")
    p.add_argument("--prior", choices=["auto", "learned", "standard"], default="auto",
                   help="where latents come from: the model's learned prior (auto: when it has one) or N(0, I)")
    p.set_defaults(func=cmd_sample)


def _fit_prior_parser(sub) -> None:
    p = sub.add_parser("fit-prior", help="fit a learned prior (a Gaussian mixture over the training molecules'"
                                         " latents) and save it in the model directory, or in a copy (--out)")
    add_model(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write a copy of the model with the fitted prior to DIR (a new directory) instead of adding"
                        " the prior to --model's directory; required for a bundled model, which is part of the"
                        " installed package")
    p.add_argument("--data", required=True, help="training molecules (the model's own training data)")
    add_smiles_column(p)
    p.add_argument("--kind", choices=["mixture", "exemplars"], default="mixture",
                   help="mixture: Gaussians fitted by EM to the molecules' mu (default); exemplars: one component"
                        " per molecule, its posterior widened by --scale (for a model with narrow posteriors)")
    p.add_argument("--components", type=positive("--components"), default=400,
                   help="mixture components, or exemplars drawn at random from the molecules encoded (default 400:"
                        " benchmarks/results/prior_choice_moses.md)")
    p.add_argument("--scale", type=positive_float("--scale"), default=1.0,
                   help="with --kind exemplars: how many posterior standard deviations wide each component is"
                        " (default 1.0)")
    p.add_argument("--rerank", type=positive("--rerank"), default=None,
                   help="record that `molvae sample` re-ranks K draws per molecule by default with this prior (the"
                        " setting it was chosen with; default: none recorded)")
    p.add_argument("--refine", type=non_negative("--refine"), default=None, metavar="C",
                   help="record that `molvae sample` refines each molecule C times by default with this prior")
    p.add_argument("--strict", action="store_true",
                   help="record that `molvae sample` decodes strictly by default with this prior")
    p.add_argument("--max-molecules", type=positive("--max-molecules"), default=100_000,
                   help="molecules encoded for the fit (the first N of the file; default 100,000)")
    p.add_argument("--pick", choices=["first", "random"], default="first",
                   help="which N: the file's first rows (default) or a random N drawn with --seed (for a file"
                        " whose rows are grouped by source)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the mixture fit and --pick random (default 0)")
    add_standardize(p)
    p.set_defaults(func=cmd_fit_prior)


def _prior_destination(args):
    """Where fit-prior and fit-critic write: --out (a new directory), else --model's directory, never a bundled model (the
    installed package is not written to). UsageError before any work otherwise."""
    from pathlib import Path

    from ..model.checkpoint import bundled_models

    if args.out is not None:
        out = Path(args.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise UsageError(f"--out must be a new or empty directory: {out}")
        if not out.parent.is_dir():
            raise UsageError(f"output directory does not exist: {out.parent}")
        return out
    if args.model is None or (args.model in bundled_models() and not Path(args.model).exists()):
        name = args.model or "default"
        raise UsageError(f"the bundled model '{name}' is part of the installed package: write a copy with what"
                         f" {args.command} fits with --out DIR (or give --model a model directory of your own)")
    return None


def _copy_model(vae, out):
    """A copy of the model's directory at ``out`` (its training set too, when it is shared from elsewhere)."""
    import shutil

    from ..model.checkpoint import load_training_set, save_training_set, training_set_paths

    shutil.copytree(vae.path, out, dirs_exist_ok=True)
    if any(p.parent != vae.path for p in training_set_paths(vae.path)):  # a shared set travels with the copy
        save_training_set(out, hashes=load_training_set(vae.path))
    return out


def cmd_fit_prior(args) -> int:
    from ..model import prior
    from ..io.tables import read_smiles

    if args.scale != 1.0 and args.kind != "exemplars":
        raise UsageError("--scale works with --kind exemplars")
    out = _prior_destination(args)
    vae = load(args)
    smiles = read_smiles(args.data, args.smiles_column)
    if args.pick == "random" and args.max_molecules < len(smiles):
        import numpy as np

        rows = np.sort(np.random.default_rng(args.seed).choice(len(smiles), args.max_molecules, replace=False))
        smiles = [smiles[i] for i in rows]
    smiles = standardized(args, smiles[: args.max_molecules])
    fitted, record = prior.fit_to_model(vae, smiles, args.components, args.seed, log=report, kind=args.kind,
                                        scale=args.scale)
    record["data"] = str(args.data)
    sampling = {**({"rerank": args.rerank} if args.rerank else {}), **({"relaxed": False} if args.strict else {}),
                **({"refine": args.refine} if args.refine else {})}
    if sampling:
        record["sampling"] = sampling
    dest = _copy_model(vae, out) if out is not None else vae.path
    prior.save(dest, fitted, record)
    report(f"fitted a {args.components}-component {args.kind} prior on {record['molecules']} molecules in"
           f" {record['fit_seconds']}s; written to {dest / prior.PRIOR_WEIGHTS}")
    return 0


def _fit_critic_parser(sub) -> None:
    p = sub.add_parser("fit-critic", help="fit a realism critic (training molecules against the model's own"
                                          " samples) that re-ranks samples, and save it in the model directory,"
                                          " or in a copy (--out)")
    add_model(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write a copy of the model with the critic to DIR (a new directory); required for a bundled"
                        " model")
    p.add_argument("--data", required=True, help="training molecules (the model's own training data)")
    add_smiles_column(p)
    p.add_argument("--skip", type=non_negative("--skip"), default=0,
                   help="rows of --data to pass over first, e.g. those the prior was fitted on (default 0)")
    p.add_argument("--molecules", type=positive("--molecules"), default=20_000,
                   help="training molecules the critic sees, the rows after --skip (default 20,000)")
    p.add_argument("--samples", type=positive("--samples"), default=20_000,
                   help="samples the critic sees, drawn as `molvae sample` draws without re-ranking (default 20,000)")
    p.add_argument("--rerank", type=positive("--rerank"), default=None,
                   help="record that `molvae sample` re-ranks K draws per molecule by the critic by default (default:"
                        " the prior's recorded K)")
    p.add_argument("--epochs", type=positive("--epochs"), default=8, help="training epochs (default 8)")
    p.add_argument("--seed", type=int, default=987_654,
                   help="random seed of the samples and the fit (default 987654, away from sampling's default 0)")
    add_standardize(p)
    p.set_defaults(func=cmd_fit_critic)


def cmd_fit_critic(args) -> int:
    from ..chem.pools import available_cpus
    from ..io.tables import read_smiles
    from ..model import critic, prior

    out = _prior_destination(args)
    vae = load(args)
    if vae.prior is None:
        raise UsageError("fit-critic separates training molecules from samples of the model's learned prior: fit"
                         " one first (molvae fit-prior)")
    smiles = read_smiles(args.data, args.smiles_column)[args.skip: args.skip + args.molecules]
    positives = standardized(args, smiles)
    report(f"drawing {args.samples} samples (seed {args.seed}) ...")
    negatives = vae.sample(args.samples, rerank=1, seed=args.seed, workers=available_cpus())["smiles"].tolist()
    fitted, record = critic.fit(positives, negatives, args.epochs, args.seed, log=report)
    record.update(data=str(args.data), rows=[args.skip, args.skip + len(smiles)])
    dest = _copy_model(vae, out) if out is not None else vae.path
    critic.save(dest, fitted, record)
    sampling = prior.record_sampling(dest, rank="critic", **({"rerank": args.rerank} if args.rerank else {}))
    report(f"fitted a critic on {record['training_molecules']} training molecules and {record['sampled_molecules']}"
           f" samples in {record['fit_seconds']}s (held-out accuracy {record['held_out_accuracy']:.3f}); written to"
           f" {dest / critic.CRITIC_WEIGHTS}; sampling defaults now {sampling}")
    return 0
