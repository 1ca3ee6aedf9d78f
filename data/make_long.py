"""The broad training file with its long training molecules repeated, so that each is seen FACTOR times an epoch.

    python data/make_long.py --factor 2     # data/zinc_moses_100k_neutral.csv.gz -> data/zinc_moses_100k_long2.csv.gz

Over a quarter of the broad model's validation misses are the 6% of molecules over 50 SELFIES tokens
(training/broad/card.md); pilot 4 (training/broad/pilot4.md) measured repeating them. Length is counted as
`molvae train` counts it: the tokens of the molecule's SELFIES in the model's vocabulary (--vocab-from, a model
directory), end token included. The validation rows (the `split` column) are copied unchanged and never repeated.
"""
import argparse
import multiprocessing as mp
from pathlib import Path

import pandas as pd

from molvae.model import checkpoint

HERE = Path(__file__).parent
_vocab = None


def _init(model_dir: str) -> None:
    global _vocab
    _vocab = checkpoint.load_model(model_dir)[1]


def length(smiles: str) -> int:
    """Tokens `molvae train` would train on for this molecule; 0 when it cannot be encoded."""
    seq, _ = _vocab.encode(smiles)
    return 0 if seq is None else len(seq)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE / "zinc_moses_100k_neutral.csv.gz"))
    ap.add_argument("--factor", type=int, default=2)
    ap.add_argument("--long", type=int, default=50, help="a molecule over this many tokens is long")
    ap.add_argument("--vocab-from", required=True, help="the model the run starts from (its vocabulary)")
    ap.add_argument("-o", "--out")
    a = ap.parse_args()
    out = a.out or str(HERE / f"zinc_moses_100k_long{a.factor}.csv.gz")
    df = pd.read_csv(a.data)
    train = df[df["split"] == "train"]
    with mp.Pool(initializer=_init, initargs=(a.vocab_from,)) as pool:
        n = pool.map(length, train["SMILES"].astype(str).tolist(), chunksize=2000)
    long = train[[k > a.long for k in n]]
    out_df = pd.concat([df] + [long] * (a.factor - 1), ignore_index=True)
    out_df.to_csv(out, index=False)
    print(f"{len(df)} rows ({len(train)} training, {len(long)} over {a.long} tokens) + {len(long) * (a.factor - 1)}"
          f" repeats -> {out}")


if __name__ == "__main__":
    main()
