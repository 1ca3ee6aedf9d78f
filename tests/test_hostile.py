"""Property-based tests: random strings, random SELFIES and random token sequences never make the tokenizer,
the readers or the scorer raise, and every row comes back."""
import csv

import pandas as pd
import selfies as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from molvae import chem
from molvae.io import tables
from molvae.model import tokens
from molvae.score import score_smiles
from molvae.model.tokens import Vocab

VOCAB = Vocab.build(["[C][C][O][=C][Branch1][C][N][Ring1][=Branch1][F]", "[C][Cl][S][=O]"], max_len=30)
SMILES_CHARS = st.text(alphabet="CNOSPFIclnos()[]=#@+-123456789%/\\.*Hh \t", max_size=60)
ANY_TEXT = st.text(max_size=200)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.one_of(SMILES_CHARS, ANY_TEXT))
def test_tokenizer_and_checks_never_raise(s):
    mol, why = chem.check_smiles(s)
    assert (mol is None) == bool(why)
    ids, why = VOCAB.encode(s)
    assert (ids is None) == bool(why)
    if ids is not None:
        assert ids[-1] == VOCAB.eos and len(ids) <= VOCAB.max_len


@SETTINGS
@given(st.lists(st.sampled_from(sorted(sf.get_semantic_robust_alphabet())), max_size=40))
def test_random_selfies_decode_to_molecules(toks):
    smi = tokens.selfies_to_smiles("".join(toks))
    assert smi is None or chem.canonical(smi) == smi


@SETTINGS
@given(st.lists(st.integers(min_value=0, max_value=len(VOCAB) - 1), max_size=40))
def test_random_token_ids_decode(ids):
    s = VOCAB.decode_ids(ids)
    assert "<" not in s
    smi = tokens.selfies_to_smiles(s)
    assert smi is None or isinstance(smi, str)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(SMILES_CHARS, ANY_TEXT), min_size=1, max_size=20))
def test_readers_and_scorer_keep_every_row(tmp_path, rows):
    rows = [r.replace("\x00", "") for r in rows]  # a NUL byte cannot live in a CSV cell
    p = tmp_path / "h.csv"
    pd.DataFrame({"smiles": rows, "k": range(len(rows))}).to_csv(p, index=False, quoting=csv.QUOTE_ALL)
    df, col = tables.read_table(p)
    assert len(df) == len(rows) and list(df["k"]) == [str(i) for i in range(len(rows))]
    assert list(df[col]) == rows
    out = score_smiles(df[col].tolist())
    assert len(out) == len(rows) and (out["valid"] | (out["error"] != "")).all()
