"""How long a fresh kernel takes to reach notebook 02's first UMAP figure, cold and warm.

    python -m benchmarks.first_umap_plot            # all scenarios, prints a Markdown table
    python -m benchmarks.first_umap_plot --repeats 3

Every scenario runs in fresh kernels with private, temporary caches (``COURSE_CACHE_DIR`` for
embeddings and layouts, ``NUMBA_CACHE_DIR`` for compiled numba code), so it neither uses nor
disturbs your real caches:

1. **first run ever** - empty caches: the model encodes the dataset, numba compiles umap (and
   pynndescent) and stores the compiled code, UMAP runs.
2. **after notebook 00** - notebook 00 runs first (it encodes the dataset, calls
   ``cu.plots.warm_up()`` and projects the dataset), then notebook 02 in a new kernel.
3. **numba warm, no layout cache** - as 2, but the layout cache is emptied before notebook 02:
   UMAP really runs, with umap's compiled code loaded from numba's disk cache.
4. **as 3 with umap-learn's default** (``COURSE_NUMBA_CACHE=0``): umap's functions are compiled
   again in the new kernel, as every kernel would pay without projection.py's numba caching.
5. **re-run** - notebook 02 again in a new kernel: everything comes from the caches.

The time is measured from just before the kernel starts to the end of the first cell whose
output holds an image and which calls ``project_2d``/``side_by_side`` (the same rule as
benchmarks/notebook_profile.py). The kernel's CPU time at that moment is printed too: on a
shared, busy machine wall times stretch with the load, CPU times much less. Design target:
under 15 s in the warm scenarios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.notebook_profile import UMAP_CALLS
from course_utils.cli.notebooks import NOTEBOOK_DIR, execute_code_cells, notebook_client

NB00 = NOTEBOOK_DIR / "00_setup_and_tour.ipynb"
NB02 = NOTEBOOK_DIR / "02_embeddings_and_similarity.ipynb"
TARGET_S = 15.0


def _kernel_cpu_s(client) -> float | None:
    """CPU seconds (user + system) the kernel process has used so far, from /proc."""
    try:
        pid = client.km.provisioner.process.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, ValueError, IndexError):
        return None


def _profile(path: Path) -> tuple[float | None, float | None, float]:
    """(first UMAP wall s, kernel CPU s at that point, notebook wall s) in a fresh kernel."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    client = notebook_client(notebook, path.parent, timeout=900)
    first = cpu = None
    start = time.perf_counter()  # before the kernel starts: "fresh kernel to first plot"
    with client.setup_kernel():
        for _, cell in execute_code_cells(client, notebook):
            if first is None and any(call in cell.source for call in UMAP_CALLS) and any(
                    "image/png" in output.get("data", {}) for output in cell.outputs):
                first = time.perf_counter() - start
                cpu = _kernel_cpu_s(client)
        wall = time.perf_counter() - start
    return first, cpu, wall


def _run(path: Path, env: dict[str, str]) -> tuple[float | None, float | None, float]:
    """Execute ``path`` in a fresh kernel with ``env`` added; see :func:`_profile`."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return _profile(path)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _scenarios() -> list[tuple[str, Callable[[dict[str, str]], None], dict[str, str]]]:
    """(name, preparation given the env, extra env) for each scenario."""

    def nothing(env: dict[str, str]) -> None:
        return None

    def notebook_00(env: dict[str, str]) -> None:
        _run(NB00, env)

    def notebook_00_then_drop_layouts(env: dict[str, str]) -> None:
        _run(NB00, env)
        shutil.rmtree(Path(env["COURSE_CACHE_DIR"]) / "layouts", ignore_errors=True)

    def notebook_02(env: dict[str, str]) -> None:
        _run(NB02, env)

    return [
        ("first run ever (empty caches)", nothing, {}),
        ("after notebook 00", notebook_00, {}),
        ("numba warm, no layout cache", notebook_00_then_drop_layouts, {}),
        ("as above, umap-learn default (no numba disk cache)", notebook_00_then_drop_layouts,
         {"COURSE_NUMBA_CACHE": "0"}),
        ("re-run (everything cached)", notebook_02, {}),
    ]


def measure(repeats: int = 1, only: list[int] | None = None) -> list[dict]:
    rows = []
    for number, (name, prepare, extra) in enumerate(_scenarios(), start=1):
        if only and number not in only:
            continue
        firsts, cpus, walls = [], [], []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="course-bench-") as folder:
                env = {
                    "COURSE_CACHE_DIR": str(Path(folder) / "course-cache"),
                    "NUMBA_CACHE_DIR": str(Path(folder) / "numba-cache"),
                    **extra,
                }
                prepare(env)
                first, cpu, wall = _run(NB02, env)
            firsts.append(first if first is not None else float("nan"))
            cpus.append(cpu if cpu is not None else float("nan"))
            walls.append(wall)
            print(f"  {name}: first UMAP plot {firsts[-1]:.1f} s (kernel CPU {cpus[-1]:.1f} s), "
                  f"notebook {wall:.1f} s", flush=True)
        rows.append({"scenario": name, "first_umap_s": statistics.median(firsts),
                     "cpu_s": statistics.median(cpus), "wall_s": statistics.median(walls),
                     "runs": repeats})
    return rows


def table(rows: list[dict]) -> str:
    load = os.getloadavg()
    lines = [
        f"CPUs available: {len(os.sched_getaffinity(0))}; load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)",
        "",
        "| scenario (fresh kernel, notebook 02) | first UMAP plot (s) | kernel CPU by then (s) "
        f"| whole notebook (s) | first plot < {TARGET_S:.0f} s |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        verdict = "yes" if row["first_umap_s"] < TARGET_S else "no"
        lines.append(f"| {row['scenario']} | {row['first_umap_s']:.1f} | {row['cpu_s']:.1f} "
                     f"| {row['wall_s']:.1f} | {verdict} |")
    if rows and rows[0]["runs"] > 1:
        lines.append(f"\nMedians of {rows[0]['runs']} runs per scenario.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per scenario (median)")
    parser.add_argument("--only", type=int, nargs="*", help="scenario numbers to run (1-5)")
    args = parser.parse_args(argv)
    rows = measure(args.repeats, args.only)
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
