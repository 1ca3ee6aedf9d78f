"""What every command shares: the one-line-error parser, argument types, the model options, the summary line."""
from __future__ import annotations

import argparse
import sys

from ..errors import MolvaeError


BUG, USER_ERROR, SHORTFALL, INTERRUPTED = 1, 2, 3, 130  # exit statuses (molvae --help's epilog)


class UsageError(MolvaeError):
    """A command-line request that cannot be carried out as asked (one line, exit 2)."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def whole_number(name, minimum: int, requirement: str):
    """An argparse type: a whole number >= minimum, else '<name> must be <requirement>'."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got '{text}'") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be {requirement}, got {v}")
        return v
    return parse


def positive(name):
    """An argparse type: a whole number > 0."""
    return whole_number(name, 1, "positive")


def non_negative(name):
    """An argparse type: a whole number >= 0."""
    return whole_number(name, 0, "0 or more")


def float_arg(name, ok, requirement):
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


def positive_float(name):
    return float_arg(name, lambda v: v > 0 and v != float("inf"), "a positive number")  # nan fails v > 0


def unit_interval(name):
    return float_arg(name, lambda v: 0.0 <= v <= 1.0, "in [0, 1]")


def refuse_unused(args, flags: dict, mode: str) -> None:
    """UsageError (one line) naming the options in ``flags`` (dest -> flag, or dest -> {value: flag}) that
    were given on the command line (not None) although ``mode`` does not use them."""
    given = []
    for dest, flag in flags.items():
        v = getattr(args, dest)
        if v is not None:
            given.append(flag[v] if isinstance(flag, dict) else flag)
    if given:
        raise UsageError(f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply {mode}")


def add_smiles_column(p) -> None:
    p.add_argument("--smiles-column", default=None,
                   help="column holding the SMILES (default: the first named smiles, canonical_smiles, smi, ...;"
                        " an SD file's molecules are in 'smiles')")


def add_workers(p, what: str) -> None:
    """--workers, by default the CPUs this process may use (its affinity), not every core of the machine."""
    from ..chem.pools import available_cpus

    n = available_cpus()
    p.add_argument("--workers", type=positive("--workers"), default=n,
                   help=f"processes {what} (default: the {n} CPUs this process may use)")


def add_model(p, runtime: bool = True, batch: bool = True):
    """--model, and for commands that run the model --device, --int8 and (unless the command has its own)
    --batch-size."""
    p.add_argument("--model", default=None,
                   help="model directory, or a bundled model's name: default (the default; now moses), moses"
                        " (trained on MOSES), fast (its smaller decoder: 1.5-2x faster sampling, lower"
                        " reconstruction) or broad (ZINC 250k and MOSES: stereochemistry, charges, drug-sized"
                        " molecules); see docs/models.md")
    if not runtime:  # commands that only read the model's files
        return
    if batch:
        p.add_argument("--batch-size", dest="model_batch_size", type=positive("--batch-size"), default=None,
                       help="molecules the model encodes or decodes at once (default 512)")
    # defaults are None so a mode that does not run the model can refuse them (refuse_unused); runtime() fills them
    p.add_argument("--device", default=None, choices=["cpu", "cuda", "mps", "auto"],
                   help="where the model runs (default: cpu; auto: CUDA, then MPS, then CPU)")
    p.add_argument("--int8", action="store_true", default=None,
                   help="CPU only: int8 dynamic quantization of the GRU and linear layers (faster, approximate)")


def runtime(args) -> dict:
    """The model's runtime options as given, or their defaults: device cpu, no int8, batch size 512."""
    return {"device": getattr(args, "device", None) or "cpu", "int8": bool(getattr(args, "int8", None)),
            "batch_size": getattr(args, "model_batch_size", None) or 512}


def add_standardize(p) -> None:
    p.add_argument("--standardize", choices=["off", "parent", "parent+tautomer"], default="off",
                   help="standardize each molecule first with RDKit's rdMolStandardize: parent (largest organic"
                        " fragment, neutralized) or parent+tautomer (then the canonical tautomer); tables gain"
                        " standardized_smiles and standardization (what was done). Default off")


def standardized(args, smiles: list) -> list:
    """The molecules a command uses: as read, or standardized as --standardize asks."""
    from ..chem.standardize import molecules, standardize_all

    mode = getattr(args, "standardize", "off")
    return smiles if mode == "off" else molecules(smiles, standardize_all(smiles, mode))


def load(args):
    """The model a command asked for (--model, --device, --int8)."""
    from ..api import MolVAE

    return MolVAE.load(args.model, **runtime(args))


def report(message: str) -> None:
    """A command's summary line, on stderr (stdout is for data)."""
    print(message, file=sys.stderr, flush=True)
