import gzip

import numpy as np
import pandas as pd
import pytest

from molvae.io import tables
from molvae.train import data


@pytest.mark.parametrize("name", ["m.csv", "m.csv.gz", "m.tsv", "m.smi", "m.smi.gz", "m.parquet"])
def test_readers_by_extension(tmp_path, name):
    smiles = ["CCO", "c1ccccc1", "not a smiles", ""]
    p = tmp_path / name
    if name.endswith(".parquet"):
        pd.DataFrame({"Smiles": smiles, "y": [1, 2, 3, 4]}).to_parquet(p)
    elif ".smi" in name:
        text = "".join(f"{s} name{i}\n" for i, s in enumerate(smiles[:3])) + "\n"
        (gzip.open(p, "wt") if name.endswith(".gz") else open(p, "w")).write(text)
    else:
        sep = "\t" if ".tsv" in name else ","
        text = f"id{sep}Smiles\n" + "".join(f"{i}{sep}{s}\n" for i, s in enumerate(smiles))
        (gzip.open(p, "wt") if name.endswith(".gz") else open(p, "w")).write(text)
    got = tables.read_smiles(p)
    assert got[:3] == ["CCO", "c1ccccc1", "not" if ".smi" in name else "not a smiles"]
    assert len(got) == 4  # no row dropped, the empty one included


def test_smiles_column_choice_and_errors(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,mol_smiles,b\n1,CCO,2\n")
    assert tables.read_smiles(p) == ["CCO"]
    assert tables.read_smiles(p, "b") == ["2"]
    with pytest.raises(tables.DataError, match="column 'nope' not found"):
        tables.read_smiles(p, "nope")
    q = tmp_path / "y.csv"
    q.write_text("a,b\n1,2\n")
    with pytest.raises(tables.DataError, match="no SMILES column"):
        tables.read_smiles(q)
    with pytest.raises(tables.DataError, match="file not found"):
        tables.read_smiles(tmp_path / "missing.csv")
    bad = tmp_path / "x.xyz"
    bad.write_text("")
    with pytest.raises(tables.DataError, match="unsupported file type"):
        tables.read_smiles(bad)


def test_tokenize_counts_reasons(train_smiles):
    from molvae.model.tokens import Vocab, smiles_to_selfies

    vocab = Vocab.build([smiles_to_selfies(s)[0] for s in train_smiles[:100]], max_len=40)
    ts = data.tokenize(train_smiles[:100] + ["C1CC", "", "[U]"], vocab)
    assert len(ts) + sum(ts.skipped.values()) == 103
    assert ts.skipped["parse error"] == 1 and ts.skipped["empty"] == 1
    assert (ts.lengths <= 40).all() and (ts.ids[np.arange(len(ts)), ts.lengths - 1] == vocab.eos).all()


def test_bucketed_batches_cover_everything_with_little_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 60, size=5000)
    batches = data.bucketed_batches(lengths, 64, np.random.default_rng(1))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(5000))
    padded = sum(len(b) * lengths[b].max() for b in batches)
    assert padded / lengths.sum() < 1.05  # random batches would pad ~40%
    again = data.bucketed_batches(lengths, 64, np.random.default_rng(1))
    assert all((a == b).all() for a, b in zip(batches, again))


def test_write_table_is_atomic_and_checks_paths(tmp_path):
    df = pd.DataFrame({"a": [1, 2]})
    tables.write_table(df, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == "a\n1\n2\n"
    assert not list(tmp_path.glob(".*tmp"))
    with pytest.raises(tables.DataError, match="does not exist"):
        tables.write_table(df, tmp_path / "nope" / "o.csv")
    with pytest.raises(tables.DataError, match="unsupported output type"):
        tables.write_table(df, tmp_path / "o.xlsx")


def test_prepare_in_two_processes_equals_one_and_is_reused(tmp_path):
    """Encoding in worker processes (more than one chunk of 5,000) gives the same ids, labels and counts of
    skipped rows as one process; a second call with the same file and settings reuses the prepared data."""
    from tests.conftest import moses_head

    from molvae.train.prepare import prepare

    smiles = moses_head(5200) + ["not a smiles", "C1CC"]
    src = tmp_path / "m.csv"
    src.write_text("SMILES\n" + "\n".join(smiles) + "\n")
    one_vocab, one = prepare(src, tmp_path / "one", workers=1, log=lambda m: None, properties=("qed",))
    two_vocab, two = prepare(src, tmp_path / "two", workers=2, log=lambda m: None, properties=("qed",))
    assert one_vocab.tokens == two_vocab.tokens and np.array_equal(one.ids, two.ids)
    assert np.allclose(one.props, two.props, equal_nan=True) and one.skipped == two.skipped
    assert len(one) == 5200 and sum(one.skipped.values()) == 2
    assert 0 < np.nanmin(one.props) < np.nanmax(one.props) <= 1  # QED labels computed while encoding
    again = []
    vocab, ts = prepare(src, tmp_path / "two", workers=2, log=again.append, properties=("qed",))
    assert again == [f"prepared data from {tmp_path / 'two' / 'prepared'}"]
    assert vocab.tokens == two_vocab.tokens and np.array_equal(ts.ids, two.ids)
