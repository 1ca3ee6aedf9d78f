"""SD files in and out: tags become columns and come back as tags, a record RDKit cannot read stays a row
with its reason, and score, sample and optimize write .sdf."""
import pandas as pd
from rdkit import Chem

from molvae import sdf
from molvae.cli import main
from molvae.data import read_table, write_table


def _sdf(path, records):
    w = Chem.SDWriter(str(path))
    for smi, name, props in records:
        m = Chem.MolFromSmiles(smi)
        m.SetProp("_Name", name)
        for k, v in props.items():
            m.SetProp(k, v)
        w.write(m)
    w.close()


BROKEN = "broken\n  junk\n\n  2  1  0  0  0  0  0  0  0  0999 V2000\nnot an atom line\nM  END\n>  <ID>\nX-9\n\n$$$$\n"


def test_tags_become_columns_and_a_broken_record_stays_with_its_reason(tmp_path):
    path = tmp_path / "in.sdf"
    _sdf(path, [("CCO", "ethanol", {"ID": "X-1", "IC50": "12.5"}), ("c1ccccc1O", "phenol", {"ID": "X-2"})])
    with open(path, "a") as fh:
        fh.write(BROKEN)
    df, col = read_table(path)
    assert col == "smiles" and list(df.columns) == ["smiles", "name", "ID", "IC50", "read_error"]
    assert list(df["name"]) == ["ethanol", "phenol", "broken"] and list(df["ID"]) == ["X-1", "X-2", "X-9"]
    assert list(df["IC50"]) == ["12.5", "", ""] and df["read_error"][2].startswith("unreadable SD record")
    assert Chem.CanonSmiles(df["smiles"][1]) == "Oc1ccccc1"


def test_score_reads_and_writes_sdf_keeping_every_row_and_tag(tmp_path):
    src, out = tmp_path / "in.sdf", tmp_path / "scored.sdf"
    _sdf(src, [("CCO", "ethanol", {"ID": "X-1"}), ("c1ccccc1O", "phenol", {"ID": "X-2"})])
    with open(src, "a") as fh:
        fh.write(BROKEN)
    assert main(["score", str(src), "-o", str(out), "--no-model", "--workers", "1", "--quiet"]) == 0
    back, _ = read_table(out)
    assert len(back) == 3 and list(back["ID"]) == ["X-1", "X-2", "X-9"]
    assert list(back["valid"]) == ["True", "True", "False"]
    assert back["error"][2].startswith("unreadable SD record") and back["name"][0] == "ethanol"
    mols = [m for m in Chem.SDMolSupplier(str(out))]
    assert Chem.MolToSmiles(mols[0]) == "CCO" and mols[0].GetProp("qed") and mols[2].GetNumAtoms() == 0


def test_a_table_round_trips_through_sdf(tmp_path):
    df = pd.DataFrame({"smiles": ["CCO", "not a molecule", "c1ccccc1"], "score": [0.5, None, 1.25],
                       "note": ["a", "b", "multi word"]})
    write_table(df, tmp_path / "t.sdf.gz")
    back, _ = read_table(tmp_path / "t.sdf.gz")
    assert list(back["smiles"]) == ["CCO", "", "c1ccccc1"] and list(back["note"]) == ["a", "b", "multi word"]
    assert list(back["score"]) == ["0.5", "", "1.25"] and list(back[sdf.READ_ERROR]) == ["", "", ""]
    assert list(back["sd_smiles"]) == ["CCO", "not a molecule", "c1ccccc1"]  # the input's own column, as a tag


def test_sample_and_optimize_write_sdf(tmp_path):
    assert main(["sample", "-n", "5", "-o", str(tmp_path / "s.sdf")]) == 0
    assert len([m for m in Chem.SDMolSupplier(str(tmp_path / "s.sdf")) if m is not None]) == 5
    assert main(["optimize", "--objective", "qed", "--budget", "8", "--method", "random", "-o",
                 str(tmp_path / "o.sdf"), "--quiet"]) == 0
    assert [m.GetProp("call") for m in Chem.SDMolSupplier(str(tmp_path / "o.sdf"))] == [str(i) for i in range(1, 9)]
