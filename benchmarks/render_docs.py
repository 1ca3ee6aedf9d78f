"""The figures in README.md and docs/*.md, read from the results files: render the marked tables, check the prose.

    python benchmarks/render_docs.py           # rewrite every marked table from its results file
    python benchmarks/render_docs.py --check   # exit 1, naming each table or figure that its results do not hold

A marked table is a copy of a table in a results file (a part of it: a section, some rows, some columns):

    <!-- results file=benchmarks/results/quality_30000.md cols="Model;Valid;FCD/Test" rows="MOSES|molvae" -->
    | ... the rendered table ... |
    <!-- /results -->

Keys: file (required), section (the '## ' heading it sits under), table (1 = the first table there), rows (a
regular expression the first cell must match), cols (header names, ';'-separated, in the order shown) and
rename ('old=>new;...' applied to the header). Prose is checked, not rendered: every decimal figure or
percentage on a page outside code blocks must round from a number in one of the results files the page names
(a `benchmarks/results/...` or `training/...` path in its text or markers), so a sentence cannot drift from the
table it summarizes.
"""
from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
MARK = re.compile(r"^<!-- results (.*?) -->$")
END = "<!-- /results -->"
CITED = re.compile(r"(?:benchmarks/results|training|molvae/models)/[\w./-]+\.(?:md|json|jsonl|csv)")
FIGURE = re.compile(r"(?<![\w.^])(\d+\.\d+)(%?)(?![\w.])|(?<![\w.^])(\d+)(%)")
NUMBER = re.compile(r"(?<![\w])-?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?")


def parse_marker(text: str) -> dict:
    spec = dict(kv.split("=", 1) for kv in shlex.split(text))
    unknown = set(spec) - {"file", "section", "table", "rows", "cols", "rename"}
    if "file" not in spec or unknown:
        raise ValueError(f"bad results marker {text!r}: needs file=, knows section table rows cols rename")
    return spec


def tables_in(text: str) -> list[list[str]]:
    out, cur = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            cur.append(line)
        elif cur:
            out.append(cur)
            cur = []
    return out + ([cur] if cur else [])


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def render(spec: dict) -> list[str]:
    """The table a marker asks for, from its results file."""
    text = (ROOT / spec["file"]).read_text()
    if "section" in spec:
        parts = re.split(r"^## ", text, flags=re.M)
        match = [p for p in parts if p.splitlines() and p.splitlines()[0].strip() == spec["section"]]
        if not match:
            raise ValueError(f"{spec['file']}: no section '## {spec['section']}'")
        text = match[0]
    tables = tables_in(text)
    n = int(spec.get("table", 1))
    if not 1 <= n <= len(tables):
        raise ValueError(f"{spec['file']}: no table {n} (it has {len(tables)})")
    head, rule, *body = tables[n - 1]
    header = cells(head)
    cols = spec["cols"].split(";") if "cols" in spec else header
    missing = [c for c in cols if c not in header]
    if missing:
        raise ValueError(f"{spec['file']}: no column {missing[0]!r} (columns: {'; '.join(header)})")
    idx = [header.index(c) for c in cols]
    rows = [cells(r) for r in body if re.search(spec.get("rows", ""), cells(r)[0])]
    names = cols[:]
    for pair in filter(None, spec.get("rename", "").split(";")):
        old, new = pair.split("=>")
        names = [new if c == old else c for c in names]
    return ["| " + " | ".join(names) + " |", "|" + "---|" * len(cols)] + \
        ["| " + " | ".join(r[i] for i in idx) + " |" for r in rows]


def render_page(text: str) -> str:
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        out.append(lines[i])
        m = MARK.match(lines[i].strip())
        i += 1
        if not m:
            continue
        end = next((j for j in range(i, len(lines)) if lines[j].strip() == END), None)
        if end is None:
            raise ValueError(f"results marker without {END}: {lines[i - 1]}")
        out += render(parse_marker(m.group(1))) + [END]
        i = end + 1
    return "\n".join(out) + "\n"


def numbers_of(paths) -> list[float]:
    vals = []
    for p in paths:
        for tok in NUMBER.findall((ROOT / p).read_text(errors="replace")):
            try:
                vals.append(float(tok.replace(",", "")))
            except ValueError:
                pass
    return vals


def prose(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the page outside code blocks and rendered tables."""
    out, code, table = [], False, False
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            code = not code
        elif MARK.match(line.strip()):
            table = True
        elif line.strip() == END:
            table = False
        elif not code and not table:
            out.append((n, line))
    return out


def unsupported_figures(page: str, text: str | None = None) -> list[str]:
    """Figures on a page (its text as given, else as on disk) that no number in its cited results files rounds to."""
    text = (ROOT / page).read_text() if text is None else text
    cited = sorted({c.rstrip(".") for c in CITED.findall(text) if (ROOT / c.rstrip(".")).is_file()})
    values = numbers_of(cited)
    bad = []
    for n, line in prose(text):
        for dec, pct, whole, pct2 in FIGURE.findall(NUMBER_FREE.sub("", line)):
            tok, percent = (dec, pct) if dec else (whole, pct2)
            d = len(tok.split(".")[1]) if "." in tok else 0
            x = float(tok)
            tol = 0.5 * 10 ** -d + 1e-9
            if not any(abs(v - x) <= tol or (percent and abs(100 * v - x) <= tol) for v in values):
                bad.append(f"{page}:{n}: {tok}{percent} is in none of {len(cited)} cited results files")
    return bad


# text on a line that is not a figure: versions, paths, code spans, sizes of files and the like
NUMBER_FREE = re.compile(r"`[^`]*`|\(\w+[^()]*\.(?:md|json)\)|\b(?:v|version|Python|torch|PyTDC|molvae|RDKit)"
                         r" ?\d[\d.]*|\b\d+(?:\.\d+)? ?(?:MB|MiB|GB|GiB|kB|s|ms|minutes|hours)\b|\bet al\.[^)]*\)"
                         r"|\d{4}\)|[A-Z][\w.:-]*\d[\w.]*|\[\d+(?:,\s*\d+)*\]")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page differs from its results")
    ap.add_argument("--pages", nargs="+", default=PAGES)
    a = ap.parse_args(argv)
    problems = []
    for page in a.pages:
        text = (ROOT / page).read_text()
        new = render_page(text)
        if new != text:
            if a.check:
                problems.append(f"{page}: a marked table differs from its results file (run benchmarks/render_docs.py)")
            else:
                (ROOT / page).write_text(new)
                print(f"rendered {page}")
        if a.check:
            problems += unsupported_figures(page)
    print("\n".join(problems) or "every marked table and cited figure matches its results", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
