"""What a user downloads: the wheel's size and a fresh clone's size on disk (history and checkout).

    python benchmarks/footprint.py      # -> benchmarks/results/footprint.{json,md}

The wheel is built from the committed tree (`pip wheel --no-deps --no-build-isolation`, from a clone of HEAD so
uncommitted files do not count); the clone is `git clone --no-local` of HEAD, measured as `du` measures it
(allocated blocks) and split into .git (the history) and the checkout. The largest files of the wheel are listed.
"""
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from provenance import ROOT, markdown_line, record, save

MB, MIB = 1e6, 1 << 20


def du(path: Path) -> int:
    """Bytes on disk (allocated blocks) under path, as `du -s` counts them."""
    return int(subprocess.run(["du", "-s", "--block-size=1", str(path)], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", "--no-local", str(ROOT), str(clone)], check=True)
        total, history = du(clone), du(clone / ".git")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                        str(Path(tmp) / "wheel"), str(clone)], check=True, capture_output=True)
        wheel = next((Path(tmp) / "wheel").glob("molvae-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            files = sorted(((i.compress_size, i.filename) for i in z.infolist()), reverse=True)
        res = {"wheel": wheel.name, "wheel_bytes": wheel.stat().st_size, "clone_bytes": total,
               "clone_git_bytes": history, "clone_checkout_bytes": total - history,
               "largest_in_wheel": [{"file": f, "compressed_bytes": n} for n, f in files[:8]], **record({})}
    lines = ["# What a user downloads", "",
             "| what | size |", "|---|---|",
             f"| wheel ({res['wheel']}) | {res['wheel_bytes'] / MB:.1f} MB |",
             f"| fresh clone on disk (du) | {res['clone_bytes'] / MIB:.0f} MiB |",
             f"| of it, history (.git) | {res['clone_git_bytes'] / MIB:.0f} MiB |",
             f"| of it, checkout | {res['clone_checkout_bytes'] / MIB:.0f} MiB |", "",
             "Largest files in the wheel (compressed): " + "; ".join(
                 f"{x['file']} {x['compressed_bytes'] / MB:.1f} MB" for x in res["largest_in_wheel"]) + ".", "",
             markdown_line(res)]
    save("footprint", res, "\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "benchmarks"))
    main()
