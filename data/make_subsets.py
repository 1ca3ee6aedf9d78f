"""Rebuild the bundled MOSES subsets from the molsets 0.3.1 wheel (MIT license).

    pip download --no-deps molsets==0.3.1 -d /tmp/molsets
    python data/make_subsets.py /tmp/molsets/molsets-0.3.1-py3-none-any.whl

Writes data/moses_train_300k.csv.gz (a seeded random 300,000 of the 1,584,663 training molecules),
data/moses_test.csv.gz and data/moses_test_scaffolds.csv.gz (both test splits, whole).
Use --full to also extract the whole training split as data/moses_train_full.csv.gz (not committed).
"""
import io
import sys
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent


def main(wheel: str, full: bool = False) -> None:
    with zipfile.ZipFile(wheel) as zf:
        def split(name):
            return pd.read_csv(io.BytesIO(zf.read(f"moses/dataset/data/{name}.csv.gz")), compression="gzip")

        train = split("train")
        if full:
            train.to_csv(HERE / "moses_train_full.csv.gz", index=False)
        train.sample(300_000, random_state=20261125).to_csv(HERE / "moses_train_300k.csv.gz", index=False)
        split("test").to_csv(HERE / "moses_test.csv.gz", index=False)
        split("test_scaffolds").to_csv(HERE / "moses_test_scaffolds.csv.gz", index=False)


if __name__ == "__main__":
    main(sys.argv[1], "--full" in sys.argv[2:])
