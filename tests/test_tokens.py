import pytest

from molvae import chem
from molvae.model import tokens
from molvae.model.tokens import Vocab


def test_round_trip_smiles_ids_smiles(train_smiles):
    selfies = [tokens.smiles_to_selfies(s)[0] for s in train_smiles]
    vocab = Vocab.build(selfies)
    for smi in train_smiles:
        ids, why = vocab.encode(smi)
        assert why == "" and ids[-1] == vocab.eos and vocab.eos not in ids[:-1]
        assert tokens.selfies_to_smiles(vocab.decode_ids(ids)) == chem.canonical(smi)


def test_vocab_json_round_trip_and_specials(train_smiles):
    vocab = Vocab.build(tokens.smiles_to_selfies(s)[0] for s in train_smiles[:50])
    again = Vocab.from_json(vocab.to_json())
    assert again == vocab and again.tokens[:3] == ("<pad>", "<bos>", "<eos>")
    assert again.index["[C]"] == vocab.index["[C]"]
    with pytest.raises(ValueError):
        Vocab(("[C]", "<pad>", "<bos>", "<eos>"), 10)


def test_reasons_for_unknown_tokens_too_long_and_invalid():
    vocab = Vocab.build(["[C][C][O]"], max_len=5)
    assert vocab.encode("CCO")[1] == ""
    ids, why = vocab.encode("CCN")
    assert ids is None and why == "unknown token [N]"
    ids, why = vocab.encode("CCCCCCO")
    assert ids is None and why.startswith("too long (7 tokens, limit 4)")
    assert vocab.encode("C1CC") == (None, "parse error")
    assert vocab.encode("") == (None, "empty")


def test_decode_ids_stops_at_eos_and_skips_padding():
    vocab = Vocab.build(["[C][O]"])
    c, o = vocab.index["[C]"], vocab.index["[O]"]
    assert vocab.decode_ids([c, 0, o, vocab.eos, c, c]) == "[C][O]"


def test_relaxed_constraints_turn_repairs_into_rejections():
    import selfies as sf

    before = sf.get_semantic_constraints()
    assert tokens.selfies_to_smiles("[F][=C]") == "CF"         # SELFIES repairs the impossible double bond
    with tokens.selfies_rules(relaxed=True):
        assert tokens.selfies_to_smiles("[F][=C]") is None     # relaxed: F=C is decoded and RDKit rejects it
        assert tokens.selfies_to_smiles("[C][C][O]") == "CCO"
    assert sf.get_semantic_constraints() == before
