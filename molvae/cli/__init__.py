"""`molvae` command line: parse, call the Python API, report. A user error (molvae.errors.MolvaeError) ends in
one line and exit 2; a shortfall exits 3; anything else is a bug: its traceback and exit 1.

One module per group of commands, each with a ``register(sub)`` that adds its subcommands: train.py (train,
prepare), sample.py, batch.py (reconstruct, score, evaluate, encode), latent.py (interpolate, explore, map),
optimize.py. A new command goes into the module of its group (or a new one listed in COMMAND_GROUPS).
"""
from __future__ import annotations

import argparse
import sys
import traceback

from ..errors import MolvaeError
from . import batch, latent, optimize, sample, train
from .common import BUG, INTERRUPTED, USER_ERROR, Parser, UsageError  # noqa: F401  (UsageError: re-exported)

COMMAND_GROUPS = (train, sample, batch, latent, optimize)


EPILOG = """exit status:
  0    success
  2    a user error: a bad argument, input file, model directory or objective (one line on stderr)
  3    a shortfall: the command ran but made fewer results than asked (sample: only k of n molecules)
  1    a bug in molvae: its traceback is printed (please report it)
  130  interrupted (Ctrl-C)

Commands that run a model use --device cpu unless told otherwise (train included): the same results on every
machine. --device auto picks CUDA, then MPS, then the CPU. Worker processes default to the CPUs this process
may use (its CPU affinity), not every core of the machine."""


def build_parser() -> Parser:
    from .. import __version__

    ap = Parser(prog="molvae", description="SELFIES GRU VAE for molecular generation", epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"molvae {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    return ap


def main(argv=None) -> int:
    """Run one command; the exit status is one of EPILOG's."""
    from ..chem.mol import rdkit_quiet

    args = build_parser().parse_args(argv)
    try:
        with rdkit_quiet():  # RDKit's messages would interleave with the command's own reports
            return args.func(args)
    except MolvaeError as exc:  # DataError, ModelError, TrainError, UsageError, ...: the user can fix it
        return _user_error(args, str(exc))
    except KeyboardInterrupt:
        print(f"molvae {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except OSError as exc:
        if not exc.filename:  # not about a file the user named or a disk: a bug
            return _bug(args)
        return _user_error(args, f"{exc.strerror or exc}: {exc.filename}")
    except Exception:  # noqa: BLE001 - anything else is a bug: its traceback, then one line saying so
        return _bug(args)


def _user_error(args, message: str) -> int:
    print(f"molvae {args.command}: error: {message}", file=sys.stderr)
    return USER_ERROR


def _bug(args) -> int:
    traceback.print_exc()
    print(f"molvae {args.command}: internal error: a bug in molvae (the traceback above says where; please"
          " report it)", file=sys.stderr)
    return BUG


if __name__ == "__main__":
    sys.exit(main())
