"""The 20 PMO / GuacaMol v2 goal-directed tasks, written from their published definitions (targets,
fingerprints, score modifiers and means): N. Brown et al., J. Chem. Inf. Model. 59, 1096 (2019) (GuacaMol), and
W. Gao et al., NeurIPS 2022 Datasets and Benchmarks (PMO, which uses the TDC oracles with the same definitions).
A new benchmark task is a builder in _TASK_BUILDERS; molvae.objectives.get_objective finds it by name.

Four tasks were scored differently by the code PMO ran (PyTDC 0.3.6, the version PMO pinned); PMO_VARIANTS
(``isomers_c7h8n2o2_pmo``, ``isomers_c9h10n2o2pf2cl_pmo``, ``zaleplon_mpo_pmo``, ``sitagliptin_mpo_pmo``)
score them that way, for comparisons with PMO's published numbers (benchmarks/pmo_oracle_check.py checks them
against that code; for sitagliptin_mpo, against it with the modifiers it builds applied, see _sitagliptin_pmo)."""
from __future__ import annotations

import re
from typing import Callable

from rdkit import Chem
from rdkit.Chem import QED, Crippen, Descriptors, rdMolDescriptors

from .base import (INVALID_BOUNDED, Combined, Component, Isomer, MolObjective, Objective, Smarts, Tanimoto,
                              _count_element, _target_mol, clipped, gaussian, max_gaussian, min_gaussian)


def _prop(name: str, fn) -> MolObjective:
    return MolObjective(name, fn)


def _count_f(mol):
    return _count_element("F", mol)


def _similarity_task(name, target, fp, upper):
    return Combined(name, [Component(Tanimoto(target, fp), 1.0, clipped(upper), f"similarity_{fp.lower()}")])


def _median(name, a, b, fp):
    return Combined(name, [Component(Tanimoto(a, fp), 1.0, None, "similarity_1"),
                           Component(Tanimoto(b, fp), 1.0, None, "similarity_2")], "geometric")


def _tanimoto_and(name, target, fp, extra_label, extra_fn, extra_tf):
    return Combined(name, [Component(Tanimoto(target, fp), 1.0, None, f"similarity_{fp.lower()}"),
                           Component(_prop(extra_label, extra_fn), 1.0, extra_tf, extra_label)], "geometric")


CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
TROGLITAZONE = "Cc1c(C)c2OC(C)(COc3ccc(CC4SC(=O)NC4=O)cc3)CCc2c(C)c1O"
THIOTHIXENE = "CN(C)S(=O)(=O)c1ccc2Sc3ccccc3C(=CCCN4CCN(C)CC4)c2c1"
ALBUTEROL = "CC(C)(C)NCC(O)c1ccc(O)c(CO)c1"
MESTRANOL = "COc1ccc2[C@H]3CC[C@@]4(C)[C@@H](CC[C@@]4(O)C#C)[C@@H]3CCc2c1"
CAMPHOR, MENTHOL = "CC1(C)C2CCC1(C)C(=O)C2", "CC(C)C1CCC(C)CC1O"
TADALAFIL = "O=C1N(CC(N2C1CC3=C(C2C4=CC5=C(OCO5)C=C4)NC6=C3C=CC=C6)=O)C"
SILDENAFIL = "CCCC1=NN(C2=C1N=C(NC2=O)C3=C(C=CC(=C3)S(=O)(=O)N4CCN(CC4)C)OCC)C"
OSIMERTINIB = "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34"
FEXOFENADINE = "CC(C)(C(=O)O)c1ccc(cc1)C(O)CCCN2CCC(CC2)C(O)(c3ccccc3)c4ccccc4"
RANOLAZINE = "COc1ccccc1OCC(O)CN2CCN(CC(=O)Nc3c(C)cccc3C)CC2"
PERINDOPRIL = "O=C(OCC)C(NC(C(=O)N1C(C(=O)O)CC2CCCCC12)C)CCC"
AMLODIPINE = r"Clc1ccccc1C2C(=C(/N/C(=C2/C(=O)OCC)COCCN)C)\C(=O)OC"
SITAGLIPTIN = "Fc1cc(c(F)cc1F)CC(N)CC(=O)N3Cc2nnc(n2CC3)C(F)(F)F"
SITAGLIPTIN_VALSARTAN_TASK = "NC(CC(=O)N1CCn2c(nnc2C(F)(F)F)C1)Cc1cc(F)c(F)cc1F"  # as written in that task
ZALEPLON = "O=C(C)N(CC)C1=CC=CC(C2=CC=NC3=C(C=NN23)C#N)=C1"
VALSARTAN_SMARTS = "CN(C=O)Cc1ccc(c2ccccc2)cc1"
HOP_START = "CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
HOP_SCAFFOLD = "[#7]-c1n[c;h1]nc2[c;h1]c(-[#8])[c;h0][c;h1]c12"


def _osimertinib():
    return Combined("osimertinib_mpo", [
        Component(Tanimoto(OSIMERTINIB, "FCFP4"), 1.0, clipped(0.8), "similarity_fcfp4"),
        Component(Tanimoto(OSIMERTINIB, "ECFP6"), 1.0, min_gaussian(0.85, 0.1), "not_too_similar_ecfp6"),
        Component(_prop("tpsa", Descriptors.TPSA), 1.0, max_gaussian(100, 10), "tpsa"),
        Component(_prop("logp", Crippen.MolLogP), 1.0, min_gaussian(1, 1), "logp")], "geometric")


def _fexofenadine():
    return Combined("fexofenadine_mpo", [
        Component(Tanimoto(FEXOFENADINE, "AP"), 1.0, clipped(0.8), "similarity_ap"),
        Component(_prop("tpsa", Descriptors.TPSA), 1.0, max_gaussian(90, 10), "tpsa"),
        Component(_prop("logp", Crippen.MolLogP), 1.0, min_gaussian(4, 1), "logp")], "geometric")


def _ranolazine():
    return Combined("ranolazine_mpo", [
        Component(Tanimoto(RANOLAZINE, "AP"), 1.0, clipped(0.7), "similarity_ap"),
        Component(_prop("logp", Crippen.MolLogP), 1.0, max_gaussian(7, 1), "logp"),
        Component(_prop("n_F", _count_f), 1.0, gaussian(1, 1.0), "n_F"),
        Component(_prop("tpsa", Descriptors.TPSA), 1.0, max_gaussian(95, 20), "tpsa")], "geometric")


def _sitagliptin(name: str = "sitagliptin_mpo", isomer: Isomer | None = None):
    mol = _target_mol(SITAGLIPTIN, name)
    return Combined(name, [
        Component(Tanimoto(SITAGLIPTIN, "ECFP4"), 1.0, gaussian(0, 0.1), "dissimilarity_ecfp4"),
        Component(_prop("logp", Crippen.MolLogP), 1.0, gaussian(Crippen.MolLogP(mol), 0.2), "logp"),
        Component(_prop("tpsa", Descriptors.TPSA), 1.0, gaussian(Descriptors.TPSA(mol), 5), "tpsa"),
        Component(isomer or Isomer("C16H15F6N5O"), 1.0, None, "isomer_C16H15F6N5O")], "geometric")


def _valsartan():
    mol = _target_mol(SITAGLIPTIN_VALSARTAN_TASK, "valsartan_smarts")
    return Combined("valsartan_smarts", [
        Component(Smarts(VALSARTAN_SMARTS), 1.0, None, "smarts"),
        Component(_prop("logp", Crippen.MolLogP), 1.0, gaussian(Crippen.MolLogP(mol), 0.2), "logp"),
        Component(_prop("tpsa", Descriptors.TPSA), 1.0, gaussian(Descriptors.TPSA(mol), 5), "tpsa"),
        Component(_prop("bertz", Descriptors.BertzCT), 1.0, gaussian(Descriptors.BertzCT(mol), 30), "bertz")],
        "geometric")


def _deco_hop():
    return Combined("deco_hop", [
        Component(Tanimoto(HOP_START, "PHCO"), 1.0, clipped(0.85), "similarity_phco"),
        Component(Smarts("CS([#6])(=O)=O", inverse=True), 1.0, None, "no_sulfone"),
        Component(Smarts("[#7]-c1ccc2ncsc2c1", inverse=True), 1.0, None, "no_benzothiazole_amine"),
        Component(Smarts(HOP_SCAFFOLD), 1.0, None, "scaffold")], "arithmetic")


def _scaffold_hop():
    return Combined("scaffold_hop", [
        Component(Tanimoto(HOP_START, "PHCO"), 1.0, clipped(0.75), "similarity_phco"),
        Component(Smarts("[#6]-[#6]-[#6]-[#8]-[#6]~[#6]~[#6]~[#6]~[#6]-[#7]-c1ccc2ncsc2c1"), 1.0, None,
                  "decoration"),
        Component(Smarts(HOP_SCAFFOLD, inverse=True), 1.0, None, "no_scaffold")], "arithmetic")


_TASK_BUILDERS: dict[str, Callable[[], Objective]] = {
    "albuterol_similarity": lambda: _similarity_task("albuterol_similarity", ALBUTEROL, "FCFP4", 0.75),
    "amlodipine_mpo": lambda: _tanimoto_and("amlodipine_mpo", AMLODIPINE, "ECFP4", "rings",
                                            rdMolDescriptors.CalcNumRings, gaussian(3, 0.5)),
    "celecoxib_rediscovery": lambda: _similarity_task("celecoxib_rediscovery", CELECOXIB, "ECFP4", 1.0),
    "deco_hop": _deco_hop,
    "fexofenadine_mpo": _fexofenadine,
    "isomers_c7h8n2o2": lambda: Isomer("C7H8N2O2", name="isomers_c7h8n2o2"),
    "isomers_c9h10n2o2pf2cl": lambda: Isomer("C9H10N2O2PF2Cl", name="isomers_c9h10n2o2pf2cl"),
    "median1": lambda: _median("median1", CAMPHOR, MENTHOL, "ECFP4"),
    "median2": lambda: _median("median2", TADALAFIL, SILDENAFIL, "ECFP6"),
    "mestranol_similarity": lambda: _similarity_task("mestranol_similarity", MESTRANOL, "AP", 0.75),
    "osimertinib_mpo": _osimertinib,
    "perindopril_mpo": lambda: _tanimoto_and("perindopril_mpo", PERINDOPRIL, "ECFP4", "aromatic_rings",
                                             rdMolDescriptors.CalcNumAromaticRings, gaussian(2, 0.5)),
    "qed": lambda: MolObjective("qed", QED.qed, penalty=INVALID_BOUNDED),
    "ranolazine_mpo": _ranolazine,
    "scaffold_hop": _scaffold_hop,
    "sitagliptin_mpo": _sitagliptin,
    "thiothixene_rediscovery": lambda: _similarity_task("thiothixene_rediscovery", THIOTHIXENE, "ECFP4", 1.0),
    "troglitazone_rediscovery": lambda: _similarity_task("troglitazone_rediscovery", TROGLITAZONE, "ECFP4", 1.0),
    "valsartan_smarts": _valsartan,
    "zaleplon_mpo": lambda: Combined("zaleplon_mpo", [
        Component(Tanimoto(ZALEPLON, "ECFP4"), 1.0, None, "similarity_ecfp4"),
        Component(Isomer("C19H17N3O2"), 1.0, None, "isomer_C19H17N3O2")], "geometric"),
}
TASKS: tuple[str, ...] = tuple(sorted(_TASK_BUILDERS))


# -- the four tasks as PMO scored them (PyTDC 0.3.6) -----------------------------------------------------------
_ELEMENT_RUN = re.compile(r"([A-Z][a-z]*)(\d*)")


def smiles_text_atom_total(smiles: str) -> int:
    """The total atom count PyTDC 0.3.6's isomer score reads from SMILES text with its formula parser: each
    upper-case letter together with the lower-case letters after it counts the number written right after it,
    1 when none. So aromatic atoms (c, n, o, s) and implicit hydrogens count nothing, bracket hydrogens count
    ([NH3+]: 1 + 3), and a ring-closure digit after an atom is read as a count (C1: 1, C12: 12, Cc1: 1 for
    both atoms)."""
    return sum(int(n) if n else 1 for _, n in _ELEMENT_RUN.findall(smiles))


def pmo_total_atoms(mol) -> int:
    """smiles_text_atom_total of RDKit's canonical SMILES of the molecule: PMO's oracle wrapper canonicalizes
    each SMILES (Chem.MolToSmiles) before TDC scores it, so the count does not depend on how the input was
    written."""
    return smiles_text_atom_total(Chem.MolToSmiles(mol))


def _pmo_isomer(formula: str, name: str | None = None) -> Isomer:
    """GuacaMol's isomer score (element counts from the molecule, hydrogens included) with the total atom count
    replaced by pmo_total_atoms, as PyTDC 0.3.6 computes it."""
    return Isomer(formula, name=name, total_atoms=pmo_total_atoms)


def _sitagliptin_pmo():
    """sitagliptin_mpo as PMO's published numbers score it: GuacaMol's definition (ECFP4 similarity to sitagliptin
    through a Gaussian at 0 with sd 0.1, so dissimilar scores high; logP and TPSA through Gaussians at sitagliptin's
    own with sd 0.2 and 5) with PMO's isomer score for C16H15F6N5O, geometric mean. PyTDC 0.3.6 as released builds
    these modifiers but returns the geometric mean of the raw values (unbounded: a bo run on it reached a top-10
    AUC of 1.6); later TDC releases apply them (their ``sitagliptin_mpo_prev``), and only the applied form
    reproduces PMO's published Screening column (top-10 of 10,000 ZINC molecules; benchmarks/pmo_oracle_check.py
    measures both against it)."""
    return _sitagliptin("sitagliptin_mpo_pmo", _pmo_isomer("C16H15F6N5O"))


_PMO_BUILDERS: dict[str, Callable[[], Objective]] = {
    "isomers_c7h8n2o2_pmo": lambda: _pmo_isomer("C7H8N2O2", "isomers_c7h8n2o2_pmo"),
    "isomers_c9h10n2o2pf2cl_pmo": lambda: _pmo_isomer("C9H10N2O2PF2Cl", "isomers_c9h10n2o2pf2cl_pmo"),
    "sitagliptin_mpo_pmo": _sitagliptin_pmo,
    "zaleplon_mpo_pmo": lambda: Combined("zaleplon_mpo_pmo", [
        Component(Tanimoto(ZALEPLON, "ECFP4"), 1.0, None, "similarity_ecfp4"),
        Component(_pmo_isomer("C19H17N3O2"), 1.0, None, "isomer_C19H17N3O2")], "geometric"),
}
PMO_VARIANTS: tuple[str, ...] = tuple(sorted(_PMO_BUILDERS))
BUILDERS: dict[str, Callable[[], Objective]] = {**_TASK_BUILDERS, **_PMO_BUILDERS}
