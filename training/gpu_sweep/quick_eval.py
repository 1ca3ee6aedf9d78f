"""Selection scorecard for one sweep run (on the device): prior samples on the GPU, FCD against the MOSES test
split, aromatic share (the share of molecules with an aromatic ring, `molvae.chem.has_aromatic_ring`, as in
`molvae evaluate` and benchmarks/model_quality.py), heavy atoms, exact reconstruction of 300 scaffold-test
molecules, active units. The JSON records the provenance fields of benchmarks/provenance.py (weights sha256,
commit, cores, date; set MOLVAE_COMMIT where the copy has no .git).

    python quick_eval.py MODEL_DIR OUT.json [N]
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from molvae import chem, metrics  # noqa: E402
from molvae.io import tables  # noqa: E402
from molvae.api import MolVAE  # noqa: E402
from molvae.model import active_units  # noqa: E402
from provenance import record  # noqa: E402

model_dir, out = sys.argv[1], Path(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
torch.set_num_threads(4)
vae = MolVAE.load(model_dir, device="auto")
prov = record({model_dir: model_dir})
vae.batch_size = 2048
t = time.time()
df = vae.sample(n, seed=0, keep_invalid=True)
if vae.device.type == "cuda":
    torch.cuda.synchronize()
secs = time.time() - t
smiles = df["smiles"].where(df["valid"], "").tolist()
valid = [s for s in smiles if s]
mols = [chem.to_mol(s) for s in valid]
res = {"model": model_dir, "n": n, "valid": len(valid) / n, "unique": len(set(valid)) / max(1, len(valid)),
       "sample_seconds": round(secs, 2), "samples_per_s": round(n / secs, 1),
       "heavy_atoms": float(np.mean([m.GetNumHeavyAtoms() for m in mols])),
       "aromatic_share": float(np.mean([chem.has_aromatic_ring(m) for m in mols])),  # molecules with an aromatic ring
       "fcd": float(metrics.fcd(valid))}
rng = np.random.default_rng(0)
scaf = tables.read_smiles(ROOT / "data" / "moses_test_scaffolds.csv.gz")
rec = vae.reconstruct([scaf[i] for i in rng.choice(len(scaf), 300, replace=False)])
res["recon_scaffold_test"] = float(rec["recon_exact"].mean())
test = tables.read_smiles(ROOT / "data" / "moses_test.csv.gz")
mu = vae.encode([test[i] for i in rng.choice(len(test), 2000, replace=False)])
res["active_units"] = active_units(torch.from_numpy(mu[~np.isnan(mu).any(1)]))
res["meta_metrics"] = vae.meta.get("metrics", {})
res.update(prov)
out.write_text(json.dumps(res, indent=2) + "\n")
print(json.dumps({k: v for k, v in res.items() if k != "meta_metrics"}), flush=True)
