"""molvae inside someone else's process: importing it or calling it leaves RDKit's logging and SELFIES's
valence rules as the host set them, while molvae's calls use its own (and print no RDKit messages)."""
import os
import subprocess
import sys
from pathlib import Path

import molvae

HOST = r"""
import sys
import selfies as sf
from rdkit import Chem, rdBase

sf.set_semantic_constraints("hypervalent")   # the host's own choices
rdBase.EnableLog("rdApp.info")
rules, logs = sf.get_semantic_constraints(), rdBase.LogStatus()

import molvae, molvae.api, molvae.chem, molvae.metrics, molvae.objectives, molvae.chem.properties, molvae.score
import molvae.chem.standardize, molvae.model.tokens, molvae.cli
assert (sf.get_semantic_constraints(), rdBase.LogStatus()) == (rules, logs), "changed by importing molvae"

from molvae import score
from molvae.chem import standardize
from molvae.model import tokens
df = score.score_smiles(["CCO", "C1CC", "c1cccc1", "CC(C)(C)(C)(C)C"])
assert list(df["error"][1:]) == ["parse error", "kekulization", "valence"], list(df["error"])
assert standardize.standardize("CC(=O)[O-].[Na+]")[0] == "CC(=O)O"
trifluoride = "[F][Cl][Branch1][C][F][F]"
assert tokens.smiles_of([trifluoride]) == ["FCl"]           # molvae's (default) rules: one bond on chlorine
assert tokens.smiles_of([trifluoride], relaxed=True) == [None]  # relaxed: two, and RDKit rejects FClF
assert sf.decoder(trifluoride) == "FCl(F)F"                 # the host's hypervalent rules are still in force
from molvae.objectives.base import Smarts
try:
    Smarts("[C;")                                           # a bad pattern: one molvae error, no RDKit message
    raise AssertionError("bad SMARTS accepted")
except molvae.errors.MolvaeError:
    pass
assert (sf.get_semantic_constraints(), rdBase.LogStatus()) == (rules, logs), "changed by a molvae call"
print("--- host ---", file=sys.stderr, flush=True)
Chem.MolFromSmiles("C1CC")                                 # the host's own RDKit messages still appear
print("ok")
"""


def test_importing_and_calling_molvae_leaves_the_host_settings_alone():
    env = {**os.environ, "PYTHONPATH": str(Path(molvae.__file__).resolve().parent.parent)}
    r = subprocess.run([sys.executable, "-c", HOST], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    molvae_part, host_part = r.stderr.split("--- host ---")
    assert "SMILES Parse Error" not in molvae_part and "Can't kekulize" not in molvae_part, molvae_part
    assert "Explicit valence" not in molvae_part and "Running Uncharger" not in molvae_part, molvae_part
    assert "SMARTS Parse Error" not in molvae_part, molvae_part
    assert "SMILES Parse Error" in host_part
