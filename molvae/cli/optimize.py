"""`molvae optimize`."""
from __future__ import annotations

from pathlib import Path

from .common import INTERRUPTED, UsageError, add_model, load, positive, report, unit_interval


def _check_outputs(args) -> None:
    """Fail before any work when the call log or the summary cannot be written."""
    from ..io.tables import check_output_path
    from ..io.atomic import check_writable

    for path in filter(None, [args.output, args.summary]):
        out = Path(path)
        if path == args.output:
            check_output_path(out)
        elif not out.parent.is_dir():
            raise UsageError(f"output directory does not exist: {out.parent}")
        try:
            check_writable(out)
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None


def summary_line(s: dict) -> str:
    """The run in one line: calls, stop reason, best molecule, top-10 mean and AUC, the start's comparison."""
    fmt = lambda v: "n/a" if v is None else f"{v:.4g}"  # noqa: E731
    early = {"stalled": ", stopped early: no new molecules", "interrupted": ", interrupted: the log is incomplete",
             "below_limit": f", stopped early: reached the limit of {s.get('below_limit')} molecules below the"
                            " similarity floor",
             }.get(s["stopped"], "")
    line = (f"{s['objective']} ({s['direction']}) by {s['method']}: {s['calls']} of {s['budget']} calls in "
            f"{s['seconds']:.1f}s ({s['repeats']} repeats answered from the cache, {s['invalid_decodes']} invalid"
            f" decodes, {s['objective_failures']} molecules the objective could not score{early}); "
            f"best {fmt(s['best_score'])} {s['best_smiles'] or ''}; top-10 mean {fmt(s['top10_mean'])}, "
            f"top-10 AUC {s['auc_top10']:.4f}")
    if s.get("start"):
        line += (f"; start {s['start']} scores {fmt(s['start_score'])}, best with similarity >= "
                 f"{s['similarity_min']}: {fmt(s['best_score'])} (similarity {fmt(s['best_similarity'])}, "
                 f"improvement {fmt(s['improvement'])})")
    return line


def _import_from_here() -> None:
    """--allow-python: modules in the current directory can be named (module:function), as with `python -m`;
    the installed `molvae` script's import path starts at its own folder instead."""
    import os
    import sys

    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)


def cmd_optimize(args) -> int:
    from ..io.tables import write_table
    from ..io.atomic import write_json
    from ..optimize import check_request, optimize
    from ..optimize.oracle import TooManyFailures

    if args.allow_python:
        _import_from_here()
    check_request(args.objective, args.budget, args.method, args.start, args.similarity_min, args.batch_size,
                  args.allow_python, retrain_every=args.retrain_every, max_failure_share=args.max_failure_share)
    _check_outputs(args)
    try:
        res = optimize(load(args), args.objective, args.budget, method=args.method, start=args.start,
                       similarity_min=args.similarity_min, seed=args.seed, batch_size=args.batch_size,
                       progress=not args.quiet, allow_python=args.allow_python, retrain_every=args.retrain_every,
                       max_failure_share=args.max_failure_share)
    except TooManyFailures as exc:
        write_table(exc.result.log, args.output)
        raise UsageError(f"{exc}; the {exc.result.summary['calls']} calls made are in {args.output}") from None
    write_table(res.log, args.output)  # an interrupted run's log too, marked incomplete in the summary
    if args.summary:
        cols = ["call", "smiles", "score"] + (["similarity"] if args.start else [])
        write_json(args.summary, {**res.summary, "best": res.best(10)[cols].to_dict("records")}, default=float)
    report(summary_line(res.summary) + f"; written to {args.output}")
    return INTERRUPTED if res.summary["stopped"] == "interrupted" else 0


def register(sub) -> None:
    p = sub.add_parser("optimize", help="optimize an objective in latent space under an oracle budget")
    p.add_argument("--objective", required=True,
                   help="qed, logp, sa, plogp, plogp_norm, a PMO task, similarity:<SMILES>, isomer:<formula>, "
                        "smarts:<SMARTS>, a .toml file or module:function (with --allow-python)")
    p.add_argument("--allow-python", action="store_true",
                   help="let the objective (or a TOML file it names) import and run Python code (module:function;"
                        " modules in the current directory included)")
    p.add_argument("--budget", type=positive("--budget"), required=True,
                   help="distinct molecules the objective may score (repeats are free)")
    p.add_argument("--method", choices=["auto", "bo", "gradient", "random"], default="auto",
                   help="auto (default): gradient with --retrain-every 250, or bo with --start;"
                        " see docs/optimization.md")
    p.add_argument("--start", default=None, help="start molecule (SMILES): search around it")
    p.add_argument("--similarity-min", type=unit_interval("--similarity-min"), default=None,
                   help="Tanimoto floor to the start for reported molecules (default 0.4 with --start)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the search (default 0)")
    p.add_argument("--batch-size", type=positive("--batch-size"), default=None,
                   help="latent points per step (default: 500 for random, budget/40 in [10, 100] otherwise)")
    p.add_argument("--retrain-every", type=positive("--retrain-every"), default=0, metavar="N",
                   help="fine-tune (a copy of) the model on the molecules scored so far, weighted by rank, every N"
                        " calls, and carry on in its new latent space (weighted retraining; bo and gradient;"
                        " default: 250 with --method auto without --start, otherwise never)")
    p.add_argument("-o", "--output", required=True, help="call log (.csv, .tsv, .parquet): one row per oracle call")
    p.add_argument("--summary", default=None,
                   help="also write the run summary as JSON (best score and molecule, the 10 best, top-10 AUC, time)")
    p.add_argument("--max-failure-share", type=unit_interval("--max-failure-share"), default=0.5, metavar="SHARE",
                   help="stop (exit 2, the calls made written) once the objective has failed on more than this"
                        " share of its calls, judged from 20 calls on (default 0.5; 1: never stop). Failures (no"
                        " value, or an error in a Python objective) get the penalty and are counted in the summary")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model(p, batch=False)
    p.set_defaults(func=cmd_optimize)
