"""Profile one notebook as a user feels it: wall time, first plot, slowest warm cell, memory.

A notebook is executed cell by cell in a fresh kernel (nbclient). We record

* ``wall_s``: kernel start to last cell done (what `make course` costs per notebook);
* ``first_plot_s``: kernel start to the first cell whose output holds an image;
* ``first_umap_s``: kernel start to the first output of a cell that calls a projection
  (``project_2d``/``side_by_side``); notebook 02's figure is the DESIGN target (< 15 s);
* ``slowest_warm_cell_s``: after the full run, every non-training code cell is run a second
  time in the same kernel; the slowest of those is the "live feel" figure;
* ``peak_rss_mb``: the kernel process's peak resident memory (VmHWM from /proc);
* ``collected``: what small snippets printed when run in the kernel right after the first
  pass (``collect={"name": "print(...)"}``), so results such as a notebook's before/after
  table come from the notebook itself rather than from a second training run.

Cells tagged ``training`` or calling a training function are excluded from the warm re-run
(they are the intended slow step).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from course_utils.cli.notebooks import execute_code_cells, notebook_client

UMAP_CALLS = ("project_2d", "side_by_side", "before_after", "timeline")
#: Cells that train a model are the intended slow step: excluded from the warm re-run.
TRAINING_CALLS = ("train_triplets(", "train_with_loss(", "trainer.train(", "fine_tune(")


@dataclass
class NotebookProfile:
    name: str
    wall_s: float
    first_plot_s: float | None
    first_umap_s: float | None
    slowest_warm_cell_s: float | None
    slowest_warm_cell: str
    peak_rss_mb: float | None
    collected: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _has_image(cell) -> bool:
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data or "image/svg+xml" in data:
            return True
    return False


def _kernel_peak_rss_mb(client) -> float | None:
    try:
        pid = client.km.provisioner.process.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (AttributeError, OSError, ValueError):
        return None
    return None


def _printed(cell) -> str:
    """The stdout a cell printed (a snippet that raises stops nbclient with the error)."""
    return "".join(output.get("text", "") for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream" and output.get("name") == "stdout")


def profile_notebook(path: Path, *, timeout: int = 900, warm_rerun: bool = True,
                     collect: Mapping[str, str] | None = None) -> NotebookProfile:
    """Execute ``path`` in a fresh kernel and return its :class:`NotebookProfile`."""
    notebook = nbformat.read(path, as_version=4)
    client = notebook_client(notebook, path.parent, timeout=timeout)
    first_plot = first_umap = None
    slowest, slowest_source = None, ""
    start = time.perf_counter()  # includes the kernel's start-up: "fresh kernel to first plot"
    with client.setup_kernel():
        for _, cell in execute_code_cells(client, notebook):
            now = time.perf_counter() - start
            if first_plot is None and _has_image(cell):
                first_plot = now
            if first_umap is None and _has_image(cell) and any(
                    call in cell.source for call in UMAP_CALLS):
                first_umap = now
        wall = time.perf_counter() - start
        collected = {}
        for name, source in (collect or {}).items():
            snippet = nbformat.v4.new_code_cell(source)
            notebook.cells.append(snippet)  # nbclient writes outputs back by index
            try:
                client.execute_cell(snippet, len(notebook.cells) - 1)
            finally:
                notebook.cells.pop()
            collected[name] = _printed(snippet)
        if warm_rerun:
            for index, cell in enumerate(notebook.cells):
                tags = cell.get("metadata", {}).get("tags", [])
                if cell.cell_type != "code" or "training" in tags or any(
                        call in cell.source for call in TRAINING_CALLS):
                    continue
                cell_start = time.perf_counter()
                client.execute_cell(cell, index)
                seconds = time.perf_counter() - cell_start
                if slowest is None or seconds > slowest:
                    slowest = seconds
                    slowest_source = cell.source.strip().splitlines()[0][:60] if cell.source else ""
        peak = _kernel_peak_rss_mb(client)
    return NotebookProfile(path.name, wall, first_plot, first_umap, slowest, slowest_source, peak,
                           collected)
