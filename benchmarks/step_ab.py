"""Side-by-side timings of notebook 05's training step under candidate changes (issue 18).

    python -m benchmarks.step_ab [--steps 12] [--repeats 3]
                                 [--variants trained_1mb frozen_32mb ...]

Each run is a fresh process (some settings, such as glibc's mmap threshold, cannot be undone
inside a process) that trains notebook 05's configuration for ``--steps`` steps and reports the
median seconds per step after the first two, its CPU time split into user and system, and its
peak memory. Variants are interleaved (A B A B ...) so that a change in the machine's load
hits all of them alike; the table gives min and median over the repeats and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

#: allocator setting -> what the child process changes before training (:func:`_apply_heap`).
HEAPS = {
    "glibc": "glibc's moving threshold, never set (the course since issue 25)",
    **{f"{mb}mb": f"mmap threshold fixed at {mb} MB (32 MB: the course, issues 18-24)"
       for mb in (1, 4, 8, 16, 32)},
    "128kb": "mmap threshold fixed at 128 kB for the whole process (before issue 18)",
    "arena1": "glibc's moving threshold and one malloc arena (M_ARENA_MAX=1)",
}
#: A variant is ``<vocab>_<heap>``: ``frozen`` (the course) or ``trained`` word-embedding
#: table, and one of :data:`HEAPS`, e.g. ``frozen_glibc`` (the course's step) or
#: ``trained_1mb`` (the step before the table was frozen).
VARIANTS = [f"{vocab}_{heap}" for vocab in ("frozen", "trained") for heap in HEAPS]


def _mallopt(parameter: int, value: int) -> None:
    """glibc's ``mallopt(parameter, value)`` (Linux with glibc only)."""
    import ctypes
    import ctypes.util

    ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(parameter, value)


def _apply_heap(heap: str) -> None:
    """Change the allocator setting of this (child) process as ``heap`` says."""
    m_mmap_threshold, m_arena_max = -3, -8
    if heap.endswith("mb"):
        _mallopt(m_mmap_threshold, int(heap.removesuffix("mb")) << 20)
    elif heap == "128kb":
        _mallopt(m_mmap_threshold, 128 * 1024)
    elif heap == "arena1":
        _mallopt(m_arena_max, 1)


def step_clock(walls: list[float]) -> Any:
    """A trainer callback that appends every optimiser step's wall time to ``walls``."""
    from transformers import TrainerCallback

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            walls.append(time.perf_counter() - self.start)

    return Clock()


def child(name: str, steps: int) -> dict:
    """Train ``steps`` steps under variant ``name``; one result row."""
    import resource

    import course_utils as cu
    from course_utils import training_presets as training

    if name not in VARIANTS:
        raise SystemExit(f"unknown variant {name!r}; choose from {', '.join(VARIANTS)}")
    vocab, heap = name.split("_")
    _apply_heap(heap)
    walls: list[float] = []

    train = cu.data.load_course_data("train")
    triplets = cu.triplets.make_triplets(train, **training.SENTIMENT_RECIPE, seed=0)
    test = cu.data.load_course_data("test")
    config = training.TrainingConfig(max_steps=steps, progress="none", snapshot_every=None,
                                     freeze_word_embeddings=vocab == "frozen")
    before = os.times()
    start = time.perf_counter()
    result = training.train_triplets(triplets, config=config, callbacks=[step_clock(walls)])
    total = time.perf_counter() - start
    after = os.times()
    train_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = cu.evaluation.embedding_report(result.model, train, test)
    return {
        "variant": name,
        "s_per_step": float(np.median(walls[2:])),
        "first_two_s": float(sum(walls[:2])),
        "train_s": total,
        "user_s": after.user - before.user,
        "sys_s": after.system - before.system,
        "peak_mb": train_peak,
        "sentiment_knn": float(report.loc["sentiment", "knn_accuracy"]),
        "topic_knn": float(report.loc["topic", "knn_accuracy"]),
    }


def run(variants: list[str], steps: int, repeats: int) -> list[dict]:
    rows = []
    for repeat in range(repeats):
        for name in variants:
            rows.append(run_child("benchmarks.step_ab", [name, "--steps", str(steps)],
                                  f"variant {name}", repeat))
    return rows


def run_child(module: str, arguments: list[str], what: str, repeat: int) -> dict:
    """Run ``python -m module --child ARGUMENTS`` in a fresh process; its last printed line (a
    JSON row) with the repeat and the load average at the start; print it as it comes."""
    load = os.getloadavg()[0]
    command = [sys.executable, "-m", module, "--child", *arguments]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{what} failed:\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row.update(repeat=repeat, load=load)
    print(json.dumps(row), flush=True)
    return row


def step_gflop() -> float:
    """Estimated GFLOP of one notebook-05 step (see benchmarks.training_efficiency)."""
    import course_utils as cu
    from benchmarks.training_efficiency import padded_tokens_per_step, step_flops
    from course_utils import training_presets as training

    config = training.TrainingConfig()
    model = cu.models.load_model()
    model.max_seq_length = config.max_seq_length
    train = cu.data.load_course_data("train")
    triplets = cu.triplets.make_triplets(train, **training.SENTIMENT_RECIPE, seed=0)
    tokens, seq_len = padded_tokens_per_step(model, triplets, config.batch_size)
    return step_flops(model, tokens, seq_len) / 1e9


def table(rows: list[dict], matmul_gflops: float, gflop_per_step: float,
          batch_size: int = 16) -> str:
    lines = [f"Matmul limit {matmul_gflops:.0f} GFLOP/s (best of before and after the runs); "
             f"one step is about {gflop_per_step:.1f} GFLOP.", "",
             "| variant | s/step min | s/step median | sentences/s (median) | share of matmul "
             "limit | user s | sys s | peak MB | sentiment kNN | topic kNN | load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in dict.fromkeys(row["variant"] for row in rows):
        mine = pd.DataFrame([row for row in rows if row["variant"] == name])
        med = mine.median(numeric_only=True)
        lines.append(
            f"| {name} | {mine.s_per_step.min():.3f} | {med.s_per_step:.3f} | "
            f"{3 * batch_size / med.s_per_step:.0f} | "
            f"{gflop_per_step / med.s_per_step / matmul_gflops:.0%} | "
            f"{med.user_s:.1f} | {med.sys_s:.1f} | "
            f"{med.peak_mb:.0f} | {med.sentiment_knn:.3f} | {med.topic_knn:.3f} | "
            f"{mine.load.min():.1f}-{mine.load.max():.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, metavar="VOCAB_HEAP",
                        default=["frozen_glibc", "frozen_32mb"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.steps)))
        return 0
    from benchmarks.machine import matmul_gflops

    limit = matmul_gflops(2)
    rows = run(args.variants, args.steps, args.repeats)
    limit = max(limit, matmul_gflops(2))
    print(table(rows, limit, step_gflop()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
