"""`molvae` command line: parse, call the Python API, report. Every user error ends in one line and exit 2."""
from __future__ import annotations

import argparse
import os
import sys


class UsageError(ValueError):
    pass


def _positive(name):
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got '{text}'") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be positive, got {v}")
        return v
    return parse


def _float_arg(name, ok, requirement):
    """An argparse type: a float that passes ok(v), else '<name> must be <requirement>'."""
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got '{text}'") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"{name} must be {requirement}, got {text}")
        return v
    return parse


def _positive_float(name):
    return _float_arg(name, lambda v: v > 0 and v != float("inf"), "a positive number")  # nan fails v > 0


def _unit_interval(name):
    return _float_arg(name, lambda v: 0.0 <= v <= 1.0, "in [0, 1]")


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _add_model(p, runtime: bool = True):
    p.add_argument("--model", default=None,
                   help="model directory, or a bundled model's name: default (the default) or fast (smaller"
                        " decoder: 1.5-2x faster sampling, lower reconstruction; see the README)")
    if not runtime:  # commands whose workers load the model themselves, on the CPU
        return
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "mps", "auto"],
                   help="where the model runs (default: cpu; auto: CUDA, then MPS, then CPU)")
    p.add_argument("--int8", action="store_true",
                   help="CPU only: int8 dynamic quantization of the GRU and linear layers (faster, approximate)")


# -- train -------------------------------------------------------------------------------------------------
TRAIN_FLAGS = {  # flag -> (TrainConfig field, type)
    "--data": ("data", str), "--out": ("out", str), "--smiles-column": ("smiles_column", str),
    "--epochs": ("epochs", _positive("--epochs")), "--batch-size": ("batch_size", _positive("--batch-size")),
    "--lr": ("lr", _positive_float("--lr")), "--lr-decay": ("lr_decay", _positive_float("--lr-decay")),
    "--emb-dim": ("emb_dim", _positive("--emb-dim")),
    "--hidden-dim": ("hidden_dim", _positive("--hidden-dim")),
    "--enc-hidden-dim": ("enc_hidden_dim", _positive("--enc-hidden-dim")),
    "--enc-layers": ("enc_layers", _positive("--enc-layers")),
    "--dec-layers": ("dec_layers", _positive("--dec-layers")),
    "--latent-dim": ("latent_dim", _positive("--latent-dim")), "--dropout": ("dropout", float),
    "--max-len": ("max_len", _positive("--max-len")),
    "--beta": ("beta", float), "--kl-schedule": ("kl_schedule", str),
    "--kl-warmup-steps": ("kl_warmup_steps", _positive("--kl-warmup-steps")),
    "--free-bits": ("free_bits", float), "--grad-clip": ("grad_clip", _positive_float("--grad-clip")),
    "--max-minutes": ("max_minutes", _positive_float("--max-minutes")),
    "--checkpoint-minutes": ("checkpoint_minutes", _positive_float("--checkpoint-minutes")),
    "--val-fraction": ("val_fraction", float), "--seed": ("seed", int), "--threads": ("threads", int),
    "--device": ("device", str),
    "--properties": ("properties", str), "--property-weight": ("property_weight", float),
    "--init-from": ("init_from", str),
}


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


def cmd_train(args) -> int:
    from dataclasses import fields

    from .train import TrainConfig, train

    if args.nproc and args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        return _relaunch_distributed(args)

    settings = {}
    if args.config:
        settings.update(TrainConfig.from_toml(args.config))
    if args.resume and args.out and not args.config:
        import json
        from pathlib import Path

        saved = Path(args.out) / "config.json"
        if saved.exists():  # a resumed run keeps its settings unless told otherwise
            known = {f.name for f in fields(TrainConfig)}
            settings.update({k: v for k, v in json.loads(saved.read_text()).items() if k in known})
    for flag, (name, _) in TRAIN_FLAGS.items():
        v = getattr(args, name)
        if v is not None:
            settings[name] = v
    if args.no_bidirectional:
        settings["bidirectional"] = False
    if args.no_amp:
        settings["amp"] = False
    if args.freeze_vae:
        settings["freeze_vae"] = True
    cfg = TrainConfig(**settings)
    model_dir = train(cfg, resume=args.resume, command="molvae " + " ".join(sys.argv[1:]),
                      log=lambda m: print(m, file=sys.stderr, flush=True), workers=args.workers)
    if int(os.environ.get("RANK", "0")) == 0:
        from .train import read_metrics

        done = (read_metrics(model_dir.parent / "metrics.jsonl") or [{}])[-1].get("epoch", 0)
        if done >= cfg.epochs:
            print(f"finished {done} epochs; model written to {model_dir}")
        else:
            print(f"stopped after {done} of {cfg.epochs} epochs; the checkpoint in {model_dir.parent / 'checkpoint'}"
                  f" holds the latest weights (continue with --resume)"
                  + (f"; the model of epoch {done} is in {model_dir}" if (model_dir / "model.json").exists() else ""))
    return 0


def cmd_prepare(args) -> int:
    from pathlib import Path

    from .train import TrainError, parse_properties, prepare

    if not Path(args.data).is_file():
        raise TrainError(f"training data not found: {args.data}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    props = parse_properties(args.properties or "")
    vocab, ts = prepare(args.data, args.out, args.smiles_column, None, args.max_len or 0, args.workers,
                        log=lambda m: print(m, file=sys.stderr, flush=True), properties=props)
    bad = sum(ts.skipped.values())
    print(f"prepared {len(ts)} molecules ({bad} skipped: {ts.skipped}) with a {len(vocab)}-token vocabulary in"
          f" {Path(args.out) / 'prepared'}; train with: molvae train --data {args.data} --out {args.out}",
          file=sys.stderr)
    return 0


# -- parser ------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = Parser(prog="molvae", description="SELFIES GRU VAE for molecular generation")
    ap.add_argument("--version", action="version", version=f"molvae {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train a model (or resume training)")
    for flag, (name, typ) in TRAIN_FLAGS.items():
        p.add_argument(flag, dest=name, type=typ, default=None)
    p.add_argument("--no-bidirectional", action="store_true", help="unidirectional encoder")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--config", default=None, help="TOML file with training settings (flags win)")
    p.add_argument("--nproc", type=_positive("--nproc"), default=None,
                   help="train with K processes (DistributedDataParallel, via torchrun)")
    p.add_argument("--no-amp", action="store_true", help="no bfloat16 autocast on CUDA")
    p.add_argument("--freeze-vae", action="store_true",
                   help="with --init-from and --properties: train only the property head")
    p.add_argument("--workers", type=_positive("--workers"), default=os.cpu_count() or 1,
                   help="processes for encoding the data (first run only)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("prepare", help="encode a training file once into OUT/prepared (memory-mapped)")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--smiles-column", default=None)
    p.add_argument("--max-len", type=_positive("--max-len"), default=None)
    p.add_argument("--properties", default=None,
                   help="comma-separated property labels, as for train --properties (encoded once with the data)")
    p.add_argument("--workers", type=_positive("--workers"), default=os.cpu_count() or 1)
    p.set_defaults(func=cmd_prepare)

    from . import commands
    commands.add_commands(sub, _add_model, _positive, _positive_float, _unit_interval)
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:  # ModelError, DataError, TrainError, UsageError and bad arguments to the API
        print(f"molvae {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"molvae {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"molvae {args.command}: error: {exc.strerror or exc}"
              f"{': ' + str(exc.filename) if exc.filename else ''}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: say so in one line; MOLVAE_DEBUG=1 shows the traceback
        if os.environ.get("MOLVAE_DEBUG"):
            raise
        print(f"molvae {args.command}: internal error: {type(exc).__name__}: {exc}"
              " (set MOLVAE_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
