"""`molvae train` and `molvae prepare`."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .common import add_smiles_column, add_standardize, add_workers, positive, positive_float, report

TRAIN_FLAGS = {  # flag(s) -> (TrainConfig field, type, help); a second spelling is an older name still accepted
    ("--data",): ("data", str, "training molecules (.csv, .tsv, .smi, .sdf, their .gz, .parquet); required"),
    ("--out",): ("out", str, "run directory: checkpoint, metrics.jsonl and the finished model in OUT/model"),
    ("--smiles-column",): ("smiles_column", str, "column of --data holding the SMILES (default: found by name)"),
    ("--epochs",): ("epochs", positive("--epochs"), "passes over the training molecules"),
    ("--batch-size",): ("batch_size", positive("--batch-size"), "molecules per step, per process"),
    ("--lr",): ("lr", positive_float("--lr"), "Adam learning rate"),
    ("--lr-decay",): ("lr_decay", positive_float("--lr-decay"), "factor applied to the learning rate after every"
                                                                " epoch (1: constant)"),
    ("--emb-dim",): ("emb_dim", positive("--emb-dim"), "token embedding width"),
    ("--dec-hidden", "--hidden-dim"): ("dec_hidden", positive("--dec-hidden"), "decoder GRU width"),
    ("--enc-hidden", "--enc-hidden-dim"): ("enc_hidden", positive("--enc-hidden"),
                                           "encoder GRU width (per direction)"),
    ("--enc-layers",): ("enc_layers", positive("--enc-layers"), "encoder GRU layers"),
    ("--dec-layers",): ("dec_layers", positive("--dec-layers"), "decoder GRU layers"),
    ("--latent-dim",): ("latent_dim", positive("--latent-dim"), "dimensions of the latent space"),
    ("--dropout",): ("dropout", float, "dropout between stacked GRU layers (encoder and decoder), in [0, 1); a training setting, also for --init-from and --resume"),
    ("--max-len",): ("max_len", positive("--max-len"), "longest molecule in SELFIES tokens; longer ones are"
                                                       " skipped (default: the longest training molecule)"),
    ("--beta",): ("beta", float, "final weight of the KL term"),
    ("--kl-schedule",): ("kl_schedule", str, "how the KL weight reaches --beta: linear, cyclical or constant"),
    ("--kl-warmup-steps",): ("kl_warmup_steps", positive("--kl-warmup-steps"),
                             "linear: steps from 0 to --beta; cyclical: the length of one cycle"),
    ("--kl-ramp-fraction",): ("kl_ramp_fraction", float, "cyclical: share of each cycle spent ramping, in (0, 1]"),
    ("--free-bits",): ("free_bits", float, "nats per latent dimension below which the KL term is not penalized"),
    ("--grad-clip",): ("grad_clip", positive_float("--grad-clip"), "gradient norm clip"),
    ("--max-minutes",): ("max_minutes", positive_float("--max-minutes"),
                         "stop this run after this many minutes, saving a checkpoint (continue with --resume)"),
    ("--checkpoint-minutes",): ("checkpoint_minutes", positive_float("--checkpoint-minutes"),
                                "minutes between checkpoints"),
    ("--val-fraction",): ("val_fraction", float, "share of the molecules held out for validation, in [0, 1)"),
    ("--val-max",): ("val_max", int, "at most this many validation molecules"),
    ("--recon-eval",): ("recon_eval", int, "validation molecules decoded greedily after every epoch (0: none)"),
    ("--seed",): ("seed", int, "random seed (split, initialization, batches)"),
    ("--threads",): ("threads", int, "torch CPU threads (0: torch's default)"),
    ("--device",): ("device", str, "cpu (the default, as for every command), cuda, mps, or auto (CUDA,"
                                   " then MPS, then CPU)"),
    ("--properties",): ("properties", str, "comma-separated labels for a property head: columns of --data or"
                                           " computed names (qed, logp, sa, ...)"),
    ("--property-weight",): ("property_weight", float, "weight of the property head's loss beside the ELBO"),
    ("--init-from",): ("init_from", str, "start from this model's weights (a model directory or bundled name)"),
    ("--standardize",): ("standardize", str, "standardize each molecule first: off, parent or parent+tautomer"
                                             " (see molvae score --help)"),
}
SWITCHES = {"no_bidirectional": ("bidirectional", False), "no_amp": ("amp", False), "freeze_vae": ("freeze_vae", True),
            "extend_vocab": ("extend_vocab", True)}


def _relaunch_distributed(args) -> int:
    """`molvae train --nproc K ...` is `torchrun --nproc_per_node=K -m molvae train ...`."""
    import subprocess

    argv, rest, skip = sys.argv[1:], [], False
    for a in argv:  # drop --nproc K / --nproc=K (and unambiguous prefixes argparse accepted)
        if skip:
            skip = False
        elif a.startswith("--npr"):
            skip = "=" not in a
        else:
            rest.append(a)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.nproc}",
           "-m", "molvae", *rest]
    return subprocess.call(cmd)


def _settings(args) -> dict:
    """TrainConfig settings: the preset, the --config file, the resumed run's own settings, then the flags
    (which win)."""
    from ..train.config import PRESETS, TrainConfig

    settings = dict(PRESETS[args.preset])
    if args.config:
        settings.update(TrainConfig.from_toml(args.config))
    saved = Path(args.out) / "config.json" if args.out else None
    if args.resume and saved is not None and saved.exists() and not args.config:
        settings.update(TrainConfig.saved(saved))  # a resumed run keeps its settings unless told otherwise
    for name, *_ in TRAIN_FLAGS.values():
        v = getattr(args, name)
        if v is not None:
            settings[name] = v
    for flag, (name, value) in SWITCHES.items():
        if getattr(args, flag):
            settings[name] = value
    return settings


def cmd_train(args) -> int:
    from ..train.config import TrainConfig
    from ..train.trainer import read_metrics, train

    if args.nproc and args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        return _relaunch_distributed(args)
    cfg = TrainConfig(**_settings(args))
    model_dir = train(cfg, resume=args.resume, command="molvae " + " ".join(sys.argv[1:]),
                      log=lambda m: print(m, file=sys.stderr, flush=True), workers=args.workers)
    if int(os.environ.get("RANK", "0")) == 0:
        done = (read_metrics(model_dir.parent / "metrics.jsonl") or [{}])[-1].get("epoch", 0)
        if done >= cfg.epochs:
            print(f"finished {done} epochs; model written to {model_dir}")
        else:
            print(f"stopped after {done} of {cfg.epochs} epochs; the checkpoint in {model_dir.parent / 'checkpoint'}"
                  f" holds the latest weights (continue with --resume)"
                  + (f"; the model of epoch {done} is in {model_dir}" if (model_dir / "model.json").exists() else ""))
    return 0


def cmd_prepare(args) -> int:
    from ..train.config import TrainError, parse_properties
    from ..train.prepare import prepare

    if not Path(args.data).is_file():
        raise TrainError(f"training data not found: {args.data}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    props = parse_properties(args.properties or "")
    vocab, ts = prepare(args.data, args.out, args.smiles_column, None, args.max_len or 0, args.workers,
                        log=report, properties=props, standardize=args.standardize)
    bad = sum(ts.skipped.values())
    report(f"prepared {len(ts)} molecules ({bad} skipped: {ts.skipped}) with a {len(vocab)}-token vocabulary in"
           f" {Path(args.out) / 'prepared'}; train with: molvae train --data {args.data} --out {args.out}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("train", help="train a model (or resume training)")
    for flags, (name, typ, text) in TRAIN_FLAGS.items():
        preset = name not in ("data", "out", "smiles_column", "init_from", "device")
        p.add_argument(*flags, dest=name, type=typ, default=None, help=text + (" (default: the preset's)" * preset))
    p.add_argument("--no-bidirectional", action="store_true", help="unidirectional encoder")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--config", default=None, help="TOML file with training settings (flags win)")
    p.add_argument("--preset", choices=["default", "fast", "none"], default="default",
                   help="the recipe settings start from: the bundled default model's (3 x GRU 512 decoder; the"
                        " default), the fast model's (2 x GRU 384, property head), or none (a small 1-layer model)")
    p.add_argument("--nproc", type=positive("--nproc"), default=None,
                   help="train with K processes (DistributedDataParallel, via torchrun)")
    p.add_argument("--no-amp", action="store_true", help="train in float32 throughout (default: bfloat16 autocast on CUDA and on CPUs with AMX or AVX-512 BF16)")
    p.add_argument("--freeze-vae", action="store_true",
                   help="with --init-from and --properties: train only the property head")
    p.add_argument("--extend-vocab", action="store_true",
                   help="with --init-from: add the tokens the data needs (stereo, charges, elements) to the model's"
                        " vocabulary, each new token starting from its parent's weights ([C@@H1] from [CH1]),"
                        " and lengthen the limit to the longest molecule")
    add_workers(p, "encoding the data (first run only)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("prepare", help="encode a training file once into OUT/prepared (memory-mapped)")
    p.add_argument("--data", required=True, help="training molecules (.csv, .tsv, .smi, .sdf, their .gz, .parquet)")
    p.add_argument("--out", required=True, help="run directory: the encoded data goes into OUT/prepared")
    add_smiles_column(p)
    p.add_argument("--max-len", type=positive("--max-len"), default=None,
                   help="longest molecule in SELFIES tokens; longer ones are skipped (default: the longest)")
    p.add_argument("--properties", default=None,
                   help="comma-separated property labels, as for train --properties (encoded once with the data)")
    add_workers(p, "encoding the data")
    add_standardize(p)
    p.set_defaults(func=cmd_prepare)
