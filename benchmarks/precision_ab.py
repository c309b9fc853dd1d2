"""float32 against bfloat16 on this CPU: notebook 05's training step and ``encode`` (issue 27).

    python -m benchmarks.precision_ab [--steps 12] [--repeats 3] [--operations train encode]

Each measurement is a fresh process, interleaved (train-float32, train-bf16, encode-float32,
encode-bf16, then again) so that a change in the machine's load hits every variant alike.

- ``train``: notebook 05's training cell (frozen word-embedding table, 16 triplets per step,
  TripletLoss margin 0.5) for ``--steps`` steps through ``SentenceTransformerTrainer``; bf16 is
  the trainer's own ``bf16=True`` with ``use_cpu=True`` (autocast: float32 weights, bfloat16
  matmuls). Seconds per step are the median after the first two steps. The model is then
  evaluated on the held-out sentences in float32, so the kNN columns compare what was trained.
- ``encode``: the course's 660 sentences, batch 64, under ``torch.autocast("cpu",
  dtype=torch.bfloat16)`` or not; the median of three passes after a warm-up, and the kNN
  accuracies of those embeddings (returned as float32 either way).

The parent measures the float32 and the bfloat16 matmul limits (2048², both threads) before and
after the runs and prints them with the CPU's flags, so every timing comes with the limits of
the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd

OPERATIONS = ("train", "encode")
PRECISIONS = ("float32", "bf16")


def cpu_flags() -> dict[str, bool]:
    """Whether the CPU reports native bfloat16 instructions (``avx512_bf16``, ``amx_bf16``)."""
    try:
        with open("/proc/cpuinfo") as info:
            flags = next((line for line in info if line.startswith("flags")), "").split()
    except OSError:
        flags = []
    return {flag: flag in flags for flag in ("avx512_bf16", "amx_bf16", "amx_tile")}


def matmul_limits(threads: int = 2) -> dict[str, float]:
    """The float32 and bfloat16 matmul limits (GFLOP/s, 2048², best of 10)."""
    from benchmarks.machine import matmul_gflops

    return {name: matmul_gflops(threads, repeats=10, dtype=name) for name in PRECISIONS}


def _course_model_and_data():
    import course_utils as cu

    cu.setup(seed=0)
    train = cu.data.load_course_data("train")
    test = cu.data.load_course_data("test")
    return cu, cu.models.load_model(), train, test


def _train_child(precision: str, steps: int) -> dict:
    from datasets import Dataset
    from sentence_transformers.sentence_transformer.losses import (
        TripletDistanceMetric,
        TripletLoss,
    )

    from benchmarks.step_ab import step_clock
    from course_utils.training_presets import SENTIMENT_RECIPE

    cu, model, train, test = _course_model_and_data()
    walls: list[float] = []

    triplets = cu.triplets.make_triplets(train, **SENTIMENT_RECIPE, seed=0)
    dataset = Dataset.from_pandas(triplets[["anchor", "positive", "negative"]],
                                  preserve_index=False)
    loss = TripletLoss(model, distance_metric=TripletDistanceMetric.EUCLIDEAN,
                       triplet_margin=0.5)
    start = time.perf_counter()
    result = cu.training.fine_tune(model, dataset, loss, progress="none",
                                   callbacks=[step_clock(walls)], max_steps=steps, logging_steps=1,
                                   bf16=precision == "bf16", use_cpu=True)
    total = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model.eval()
    report = cu.evaluation.embedding_report(model, train, test)
    return {"s_per_step": float(np.median(walls[2:])), "seconds": total, "peak_mb": peak,
            "sentences_per_s": 3 * 16 / float(np.median(walls[2:])),
            "last_loss": float(result.loss_frame()["loss"].iloc[-1]),
            "sentiment_knn": float(report.loc["sentiment", "knn_accuracy"]),
            "topic_knn": float(report.loc["topic", "knn_accuracy"])}


def _encode_child(precision: str) -> dict:
    import contextlib

    import torch

    cu, model, train, test = _course_model_and_data()
    texts = list(train["text"]) + list(test["text"])
    context = (torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16"
               else contextlib.nullcontext())
    walls = []
    with context:
        cu.training.encode_texts(model, texts[:64])  # warm-up
        for _ in range(3):
            start = time.perf_counter()
            vectors = cu.training.encode_texts(model, texts)
            walls.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_train = len(train)
    knn = {
        column: cu.evaluation.knn_accuracy(vectors[:n_train], train[column].to_numpy(),
                                           vectors[n_train:], test[column].to_numpy())
        for column in ("sentiment", "topic")}
    seconds = float(np.median(walls))
    return {"s_per_step": float("nan"), "seconds": seconds, "peak_mb": peak,
            "sentences_per_s": len(texts) / seconds, "last_loss": float("nan"),
            "sentiment_knn": knn["sentiment"], "topic_knn": knn["topic"],
            "first_row": [round(float(x), 5) for x in vectors[0, :4]]}


def child(operation: str, precision: str, steps: int) -> dict:
    row = _train_child(precision, steps) if operation == "train" else _encode_child(precision)
    return {"operation": operation, "precision": precision, **row}


def run(operations: list[str], steps: int, repeats: int) -> list[dict]:
    from benchmarks.step_ab import run_child

    rows = []
    for repeat in range(repeats):
        for operation in operations:
            for precision in PRECISIONS:
                rows.append(run_child("benchmarks.precision_ab",
                                      [f"{operation}:{precision}", "--steps", str(steps)],
                                      f"{operation} {precision}", repeat))
    return rows


def table(rows: list[dict], limits: dict[str, float], gflop_per_step: float) -> str:
    """Markdown: one line per operation and precision (min and median over the repeats), the
    bf16 speed-up of each repeat's pair (same repeat = neighbouring processes), and the share
    of its own precision's matmul limit that a training step reaches."""
    frame = pd.DataFrame(rows)
    lines = [f"Matmul limits (2048², 2 threads, best of before and after): float32 "
             f"{limits['float32']:.0f} GFLOP/s, bf16 {limits['bf16']:.0f} GFLOP/s "
             f"({limits['bf16'] / limits['float32']:.1f}x). CPU flags: "
             + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in cpu_flags().items())
             + f". One training step is about {gflop_per_step:.1f} GFLOP.",
             "",
             "| operation | precision | seconds min | seconds median | per step (median) | "
             "share of its matmul limit | sentences/s | bf16 speed-up per repeat | peak MB | "
             "last loss | sentiment kNN | topic kNN | load |",
             "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for operation in dict.fromkeys(frame.operation):
        mine = frame[frame.operation == operation]
        column = "s_per_step" if operation == "train" else "seconds"
        pairs = mine.pivot(index="repeat", columns="precision", values=column)
        speedups = (pairs["float32"] / pairs["bf16"]).round(2).tolist()
        for precision in PRECISIONS:
            part = mine[mine.precision == precision]
            med = part.median(numeric_only=True)
            step, share = "-", "-"
            if operation == "train":
                step = f"{med.s_per_step:.3f} s"
                share = f"{gflop_per_step / med.s_per_step / limits[precision]:.0%}"
            lines.append(
                f"| {operation} | {precision} | {part[column].min():.3f} | "
                f"{part[column].median():.3f} | {step} | {share} | "
                f"{med.sentences_per_s:.0f} | "
                f"{', '.join(f'{s:.2f}x' for s in speedups) if precision == 'bf16' else ''} | "
                f"{med.peak_mb:.0f} | "
                f"{'-' if np.isnan(med.last_loss) else f'{med.last_loss:.4f}'} | "
                f"{med.sentiment_knn:.3f} | {med.topic_knn:.3f} | "
                f"{part.load.min():.1f}-{part.load.max():.1f} |")
    return "\n".join(lines)


def _table_from(text: str) -> int:
    """Print the table of an earlier run from its printed rows and matmul lines."""
    from benchmarks.step_ab import step_gflop

    rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    limits = [json.loads(line.split(":", 1)[1]) for line in text.splitlines()
              if line.startswith("matmul ")]
    print(table(rows, {k: max(limit[k] for limit in limits) for k in PRECISIONS},
                step_gflop()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--operations", nargs="+", choices=OPERATIONS, default=list(OPERATIONS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--table-from", type=argparse.FileType(),
                        help="print the table again from an earlier run's output")
    args = parser.parse_args(argv)
    if args.table_from:
        return _table_from(args.table_from.read())
    if args.child:
        operation, precision = args.child.split(":")
        print(json.dumps(child(operation, precision, args.steps)))
        return 0
    before = matmul_limits()
    print("matmul before:", json.dumps({k: round(v) for k, v in before.items()}), flush=True)
    rows = run(args.operations, args.steps, args.repeats)
    after = matmul_limits()
    print("matmul after:", json.dumps({k: round(v) for k, v in after.items()}), flush=True)
    from benchmarks.step_ab import step_gflop

    print(table(rows, {k: max(before[k], after[k]) for k in before}, step_gflop()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
