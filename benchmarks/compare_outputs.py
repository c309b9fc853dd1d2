"""Compare the printed outputs of two runs of the course, to show a refactor changed no number.

Usage (after `make course`, which writes executed notebooks to build/executed/)::

    cp -r build/executed /tmp/before        # on the old commit
    ...                                     # change the code, then `make course` again
    python -m benchmarks.compare_outputs /tmp/before build/executed

Every code cell's text output (streams and `text/plain` results) is compared line by line, in
cell order, after masking what legitimately changes between runs: durations ("20.9 s",
"0.52 s/step", "247.60it/s"), object addresses and widget model ids. With ``--numbers`` only
the numbers each line prints are compared (a refactor that rewords a sentence but keeps its
numbers passes). Figures are not compared (PNG bytes vary with fonts); the
numbers that figures show are printed by the claim checks next to them. Exit status 1 and a
unified diff per notebook when anything else differs.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

#: Durations and rates that depend on the machine, not on the code's results.
_TIMING = re.compile(r"\d+(?:\.\d+)?\s*(?:ms|s|sec|seconds|min)(?:/step)?\b")
_MODEL_ID = re.compile(r"model_id='[0-9a-f]+'|'model_id': '[0-9a-f]+'")
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
_RATE = re.compile(r"\d+(?:\.\d+)?it/s")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def printed_lines(notebook: Path) -> list[str]:
    """The text a learner sees under the code cells, timings masked, one entry per line."""
    lines: list[str] = []
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for number, cell in enumerate(c for c in cells if c["cell_type"] == "code"):
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                text = "".join(output["text"])
            else:
                text = "".join(output.get("data", {}).get("text/plain", ""))
            for line in text.splitlines():
                masked = _TIMING.sub("<time>", _RATE.sub("<rate>", line))
                masked = _ADDRESS.sub(" at <address>", _MODEL_ID.sub("model_id=…", masked))
                lines.append(f"[cell {number}] {masked}")
    return lines


def printed_numbers(notebook: Path) -> list[str]:
    """Each printed line that holds numbers, reduced to its cell and those numbers."""
    numbered = []
    for line in printed_lines(notebook):
        cell, text = line.split("] ", 1)
        numbers = _NUMBER.findall(text)
        if numbers:
            numbered.append(f"{cell}] {' '.join(numbers)}")
    return numbered


def compare(before: Path, after: Path, numbers_only: bool = False) -> int:
    """Print a diff for every notebook whose printed outputs differ; return how many differ."""
    read = printed_numbers if numbers_only else printed_lines
    names = sorted({p.name for folder in (before, after) for p in folder.glob("*.ipynb")})
    differing = 0
    for name in names:
        if not (before / name).exists() or not (after / name).exists():
            print(f"{name}: only in {'after' if (after / name).exists() else 'before'}")
            differing += 1
            continue
        old, new = read(before / name), read(after / name)
        diff = list(difflib.unified_diff(old, new, f"before/{name}", f"after/{name}", lineterm=""))
        unit = "lines with numbers" if numbers_only else "printed lines"
        print(f"{name}: {len(old)} {unit}, {'same' if not diff else 'DIFFERENT'}")
        if diff:
            differing += 1
            print("\n".join(diff))
    return differing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="folder of executed notebooks (the old code)")
    parser.add_argument("after", type=Path, help="folder of executed notebooks (the new code)")
    parser.add_argument("--numbers", action="store_true",
                        help="compare only the numbers each printed line holds")
    args = parser.parse_args(argv)
    for folder in (args.before, args.after):
        if not any(folder.glob("*.ipynb")):
            parser.error(f"{folder} holds no executed notebooks; run `make course` and copy "
                         "build/executed/ there first")
    return 1 if compare(args.before, args.after, args.numbers) else 0


if __name__ == "__main__":
    sys.exit(main())
