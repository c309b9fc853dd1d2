"""``make test-pythons``: install and test the course on every supported Python found here.

For each Python version that ``requires-python`` in pyproject.toml allows and that this machine
has (``python3.X`` on PATH, or a pyenv install), in ``build/pythons/3.X/``:

1. copy the project's files (git's tracked and untracked-but-not-ignored files: no .venv,
   no caches) and run ``make setup PYTHON=<that python>`` there: a fresh venv, the pinned
   packages, the VADER data and ``check_env``;
2. the fast unit tests: ``pytest tests -m "not slow and not process"`` (what `make test-fast` runs);
3. notebooks 02 (UMAP) and 05 (training), executed by nbval under the offline guard.

It prints each step as it ends, then a table (Python, torch build, pass/fail and minutes per
step) that it also writes to ``build/pythons/summary.md``; the exit status is 1 if any step
failed. Only the standard library is used, so any Python 3.7+ can run it. Run one version with
``--only 3.13``. Each venv is left in place for inspection; the next run starts it afresh.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "build" / "pythons"
FAST_TESTS = ["tests", "-m", "not slow and not process"]  # = make test-fast
NOTEBOOKS = ("02_*.ipynb", "05_*.ipynb")
#: Generous per-step limits: a CUDA torch install copies several GB; the machine may be busy.
STEP_TIMEOUT_S = {"setup": 3600, "fast tests": 3600, "notebooks 02+05": 3600}


def _load_average() -> str:
    """The 1/5/15-minute load average (this machine is shared: timings depend on it)."""
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "unknown"


def _python_support():
    """Load course_utils/python_support.py by path (the package itself needs numpy)."""
    spec = importlib.util.spec_from_file_location(
        "python_support", REPO / "course_utils" / "python_support.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def find_python(minor: int) -> tuple[str, str] | None:
    """A working ``python3.<minor>`` and its full version, or None. pyenv's shims exist for
    versions that are not selected and then fail, so each candidate is run once to be sure."""
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python3.{minor}")]
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.{minor}.*/bin/python3.{minor}"),
                         reverse=True)
    for candidate in filter(None, candidates):
        try:
            version = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                capture_output=True, text=True, timeout=60).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if version.startswith(f"3.{minor}."):
            return candidate, version
    return None


def copy_project(target: Path) -> None:
    """Copy the files git knows (tracked, or untracked and not ignored) into ``target``."""
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, text=True, check=True).stdout.split("\0")
    if target.exists():
        shutil.rmtree(target)
    for name in filter(None, names):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run_step(name: str, command: list[str], workdir: Path, log) -> tuple[bool, float, str]:
    """Run one step, appending its output to ``log``; (passed, minutes, last output line)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    log.write(f"\n===== {name}: {' '.join(command)}\n")
    log.flush()
    start = time.monotonic()
    try:
        result = subprocess.run(command, cwd=workdir, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                timeout=STEP_TIMEOUT_S[name])
        output, passed = result.stdout, result.returncode == 0
    except subprocess.TimeoutExpired as error:
        output, passed = f"{error.output or ''}\ntimed out after {error.timeout} s", False
    log.write(output)
    log.flush()
    last = next((line for line in reversed(output.splitlines()) if line.strip()), "")
    return passed, (time.monotonic() - start) / 60, last.strip()


def test_one_python(python: str, version: str) -> dict:
    """Set up, unit-test and run two notebooks in a fresh copy; one summary row."""
    minor = ".".join(version.split(".")[:2])
    workdir = OUT / minor
    copy_project(workdir)
    venv_python = str(workdir / ".venv" / "bin" / "python")
    notebooks = [str(p.relative_to(REPO)) for pattern in NOTEBOOKS
                 for p in sorted((REPO / "notebooks").glob(pattern))]
    steps = [
        ("setup", ["make", "setup", f"PYTHON={python}"]),
        ("fast tests", [venv_python, "-m", "pytest", *FAST_TESTS, "-q", "-p", "no:cacheprovider"]),
        ("notebooks 02+05", [venv_python, "-m", "pytest", "tests/offline_guard", *notebooks,
                             "-q", "-p", "no:cacheprovider"]),
    ]
    row = {"python": version, "steps": []}
    with open(OUT / f"{minor}.log", "w", encoding="utf-8") as log:
        for name, command in steps:
            passed, minutes, last = run_step(name, command, workdir, log)
            row["steps"].append((name, passed, minutes, last))
            print(f"  {version} {name}: {'pass' if passed else 'FAIL'} in {minutes:.1f} min"
                  f"  ({last})", flush=True)
            if not passed:
                break
    torch = subprocess.run(
        [venv_python, "-c", "import torch; print(torch.__version__)"],
        capture_output=True, text=True).stdout.strip() if Path(venv_python).exists() else ""
    row["torch"] = torch or "-"
    return row


def summary(rows: list[dict], load_before: str, load_after: str) -> str:
    """The markdown table printed at the end and written to build/pythons/summary.md."""
    lines = [f"load average before: {load_before}; after: {load_after}", "",
             "| Python | torch | setup | fast tests | notebooks 02+05 | total | result |",
             "|---|---|---|---|---|---:|---|"]
    for row in rows:
        if "missing" in row:
            lines.append(f"| {row['python']} | - | not found on this machine | | | | skipped |")
            continue
        cells = {name: f"{'pass' if ok else 'FAIL'} {minutes:.1f} min"
                 for name, ok, minutes, _ in row["steps"]}
        total = sum(minutes for _, _, minutes, _ in row["steps"])
        passed = all(ok for _, ok, _, _ in row["steps"]) and len(row["steps"]) == 3
        lines.append(f"| {row['python']} | {row['torch']} | {cells.get('setup', '-')} | "
                     f"{cells.get('fast tests', 'not run')} | "
                     f"{cells.get('notebooks 02+05', 'not run')} | {total:.1f} min | "
                     f"{'pass' if passed else 'FAIL'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="3.X",
                        help="test only this version (repeatable)")
    args = parser.parse_args(argv)
    support = _python_support()
    minors = support.supported_minors(support.spec_from_pyproject(REPO / "pyproject.toml"))
    # newest first: the versions most likely to break
    wanted = [m for m in reversed(minors) if not args.only or f"3.{m}" in args.only]
    OUT.mkdir(parents=True, exist_ok=True)
    load_before = _load_average()
    rows = []
    for minor in wanted:
        found = find_python(minor)
        if found is None:
            print(f"3.{minor}: not found (no python3.{minor} on PATH or in pyenv)", flush=True)
            rows.append({"python": f"3.{minor}", "missing": True})
            continue
        print(f"3.{minor}: {found[0]} ({found[1]})", flush=True)
        rows.append(test_one_python(*found))
        (OUT / "summary.md").write_text(summary(rows, load_before, _load_average()))
    text = summary(rows, load_before, _load_average())
    (OUT / "summary.md").write_text(text)
    print("\n" + text + f"\n(logs: {OUT}/3.X.log)")
    tested = [row for row in rows if "missing" not in row]
    failed = [row for row in tested
              if not all(ok for _, ok, _, _ in row["steps"]) or len(row["steps"]) < 3]
    return 1 if failed or not tested else 0


if __name__ == "__main__":
    sys.exit(main())
