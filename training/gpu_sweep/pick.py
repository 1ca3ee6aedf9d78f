"""Pick the sweep run to bundle: among runs that reach the reconstruction target (>= 0.70 on the scaffold test),
the lowest FCD; if none does, the best reconstruction."""
import json
import sys
from pathlib import Path

runs, names = Path(sys.argv[1]), sys.argv[2:]
ev = {}
for n in names:
    try:
        ev[n] = json.loads((runs / f"{n}.eval.json").read_text())
    except (OSError, ValueError):
        pass
ok = [n for n in ev if ev[n]["recon_scaffold_test"] >= 0.70]
print(min(ok, key=lambda n: ev[n]["fcd"]) if ok else max(ev, key=lambda n: ev[n]["recon_scaffold_test"]))
