"""`molvae` command line: parse, call the Python API, report. Every user error ends in one line and exit 2.

One module per group of commands, each with a ``register(sub)`` that adds its subcommands: train.py (train,
prepare), sample.py, files.py (reconstruct, score, evaluate, encode), latent.py (interpolate, explore, map),
optimize.py. A new command goes into the module of its group (or a new one listed in COMMAND_GROUPS).
"""
from __future__ import annotations

import os
import sys

from . import files, latent, optimize, sample, train
from .common import Parser, UsageError  # noqa: F401  (UsageError: re-exported for commands' callers)

COMMAND_GROUPS = (train, sample, files, latent, optimize)


def build_parser() -> Parser:
    from .. import __version__

    ap = Parser(prog="molvae", description="SELFIES GRU VAE for molecular generation")
    ap.add_argument("--version", action="version", version=f"molvae {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
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
