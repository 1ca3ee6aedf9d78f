"""Objectives: the machinery (transforms, combinations), the PMO/GuacaMol tasks, spec resolution (get_objective)."""
from .._exports import lazy

EXPORTS = {
    "spec": (
        "INVALID_BOUNDED", "INVALID_MINIMIZE", "INVALID_SA", "INVALID_UNBOUNDED", "TRANSFORMS", "CallableObjective",
        "Combined", "ObjectiveError", "Component", "Isomer", "MolObjective", "Objective", "Smarts", "Tanimoto",
        "Transform", "aggregate", "clipped", "fingerprint", "gaussian", "make_transform", "max_gaussian",
        "min_gaussian", "parse_formula", "sigmoid", "threshold", "PLOGP_NORM", "plogp_norm_of_terms", "plogp_norm",
        "BUILTINS", "PREFIXES", "get_objective", "combine", "load_toml",
    ),
    "base": (),
    "tasks": (
        "CELECOXIB", "TROGLITAZONE", "THIOTHIXENE", "ALBUTEROL", "MESTRANOL", "CAMPHOR", "MENTHOL", "TADALAFIL",
        "SILDENAFIL", "OSIMERTINIB", "FEXOFENADINE", "RANOLAZINE", "PERINDOPRIL", "AMLODIPINE", "SITAGLIPTIN",
        "SITAGLIPTIN_VALSARTAN_TASK", "ZALEPLON", "VALSARTAN_SMARTS", "HOP_START", "HOP_SCAFFOLD", "TASKS",
        "smiles_text_atom_total", "pmo_total_atoms", "PMO_VARIANTS", "BUILDERS",
    ),
}
__all__, __getattr__, __dir__ = lazy(__name__, EXPORTS)
