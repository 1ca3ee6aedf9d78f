"""SD files in and out: tags become columns and come back as tags, a record RDKit cannot read stays a row
with its reason, and score, sample and optimize write .sdf."""
import pandas as pd
from rdkit import Chem
from rdkit.Chem import AllChem

from molvae.io import sdf
from molvae.cli import main
from molvae.io.tables import read_table, write_table


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
    assert col == "smiles" and list(df.columns) == ["smiles", "name", "ID", "IC50", "read_error", "sd_molblock"]
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
    assert Chem.MolToSmiles(mols[0]) == "CCO" and mols[0].GetProp("qed") and mols[2] is None
    assert _records(out)[2][0] == _records(src)[2][0]  # the broken record goes back as it came, not dropped


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


def _records(path):
    """The text of each record of an SD file, split into (molblock, data items)."""
    return [sdf.split_record(text) for text, _ in sdf.blocks(path)]


def _poses(path, smiles):
    """3D conformers with explicit hydrogens, embedded by RDKit, written with an ID tag."""
    w = Chem.SDWriter(str(path))
    for i, smi in enumerate(smiles):
        m = Chem.AddHs(Chem.MolFromSmiles(smi))
        assert AllChem.EmbedMolecule(m, randomSeed=7) == 0
        m.SetProp("_Name", f"pose{i}")
        m.SetProp("ID", f"P-{i}")
        w.write(m)
    w.close()


POSES = ["C[C@H](N)C(=O)O", "CC(=O)Oc1ccccc1C(=O)[O-].[Na+]", "C/C=C/c1ccc(O)cc1", "C[N+](C)(C)CCO"]


def test_score_keeps_3d_poses_with_explicit_h_to_the_last_digit(tmp_path):
    src, out = tmp_path / "poses.sdf", tmp_path / "scored.sdf"
    _poses(src, POSES)
    assert main(["score", str(src), "-o", str(out), "--no-model", "--workers", "1", "--quiet"]) == 0
    before, after = _records(src), _records(out)
    assert [a[0] for a in after] == [b[0] for b in before]  # every molblock byte for byte
    for m_in, m_out in zip(Chem.SDMolSupplier(str(src), removeHs=False), Chem.SDMolSupplier(str(out), removeHs=False)):
        assert m_out.GetNumAtoms() == m_in.GetNumAtoms() > m_in.GetNumHeavyAtoms()
        assert m_out.GetConformer().Is3D()
        xyz_in, xyz_out = m_in.GetConformer().GetPositions(), m_out.GetConformer().GetPositions()
        assert (xyz_in == xyz_out).all() and abs(xyz_out[:, 2]).max() > 0.1
        assert m_out.GetProp("ID") == m_in.GetProp("ID") and float(m_out.GetProp("qed")) > 0
        assert m_out.GetProp("_Name") == m_in.GetProp("_Name")
    assert "sd_molblock" not in Chem.SDMolSupplier(str(out))[0].GetPropNames()


def test_a_csv_output_from_an_sd_file_has_no_molblock_column(tmp_path):
    src, out = tmp_path / "poses.sdf", tmp_path / "scored.csv"
    _poses(src, POSES[:2])
    assert main(["score", str(src), "-o", str(out), "--no-model", "--workers", "1", "--quiet"]) == 0
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert "sd_molblock" not in df.columns and list(df["ID"]) == ["P-0", "P-1"]


def test_a_last_record_without_dollars_is_read_and_an_endless_one_is_not_held(tmp_path, monkeypatch):
    src = tmp_path / "in.sdf"
    _sdf(src, [("CCO", "ethanol", {"ID": "X-1"}), ("c1ccccc1O", "phenol", {"ID": "X-2"})])
    text = src.read_text()
    (tmp_path / "open.sdf").write_text(text[: text.rindex("$$$$")])
    df, _ = read_table(tmp_path / "open.sdf")
    assert list(df["ID"]) == ["X-1", "X-2"] and list(df["read_error"]) == ["", ""]

    body = text.replace("$$$$\n", "")
    (tmp_path / "endless.sdf").write_text(body * 50)  # no $$$$ at all: one record, 50 molecules long
    limit = len(body) * 3
    monkeypatch.setattr(sdf, "MAX_RECORD_CHARS", limit)
    pieces = list(sdf.blocks(tmp_path / "endless.sdf"))
    assert len(pieces) == 1 and pieces[0][1] and len(pieces[0][0]) == limit
    df, _ = read_table(tmp_path / "endless.sdf")
    assert len(df) == 1 and "$$$$ line missing" in df["read_error"][0] and df["sd_molblock"][0] == ""


def test_standardized_score_and_reconstruct_leave_the_poses_untouched(tmp_path):
    src, scored, rec = tmp_path / "poses.sdf", tmp_path / "scored.sdf", tmp_path / "rec.sdf"
    _poses(src, POSES)
    assert main(["score", str(src), "-o", str(scored), "--no-model", "--standardize", "parent", "--workers", "1",
                 "--quiet"]) == 0
    assert main(["reconstruct", str(src), "-o", str(rec), "--quiet"]) == 0
    before = [m for m, _ in _records(src)]
    assert [m for m, _ in _records(scored)] == before and [m for m, _ in _records(rec)] == before
    salt = Chem.SDMolSupplier(str(scored), removeHs=False)[1]
    assert salt.GetNumAtoms() == Chem.SDMolSupplier(str(src), removeHs=False)[1].GetNumAtoms()  # Na+ still there
    assert salt.GetProp("standardized_smiles") == "CC(=O)Oc1ccccc1C(=O)O"
    assert salt.GetProp("standardization") == "salt removed ([Na+]); neutralized"
    assert Chem.SDMolSupplier(str(rec))[0].HasProp("reconstruction")
