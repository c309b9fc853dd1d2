"""Measure what notebook 05's training defaults rest on (results go into docs/training.md).

    python -m benchmarks.training_step [--steps 20 30 40] [--batch-sizes 8 16 32]

1. seconds per optimiser step for several batch sizes (the first 2 steps are warm-up and not
   counted), and with the word-embedding matrix frozen;
2. the cost of one snapshot (embedding the 220 test sentences);
3. held-out quality after N steps of the course recipe (``training.SENTIMENT_RECIPE``).

The load average before and after is printed: on a shared machine the timings are upper bounds.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def step_seconds(triplets, batch_size: int, *, steps: int = 8, freeze_embeddings: bool = False
                 ) -> tuple[float, float]:
    """Median wall seconds per step after 2 warm-up steps, and an idle-machine estimate.

    The estimate is the step's CPU time (all threads of this process) divided by the torch
    thread count: what the wall time would be if no other process competed for the cores.
    """
    import torch
    from transformers import TrainerCallback

    from course_utils import training_presets as training
    from course_utils.models import load_model

    wall: list[float] = []
    cpu: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.start, self.cpu_start = time.perf_counter(), time.process_time()

        def on_step_end(self, args, state, control, **kwargs):
            wall.append(time.perf_counter() - self.start)
            cpu.append(time.process_time() - self.cpu_start)

    model = load_model()
    if freeze_embeddings:
        model[0].auto_model.embeddings.word_embeddings.weight.requires_grad = False
    config = training.TrainingConfig(max_steps=steps + 2, batch_size=batch_size,
                                     progress="none", snapshot_every=None)
    training.train_triplets(triplets, model, config=config, callbacks=[Clock()])
    return float(np.median(wall[2:])), float(np.median(cpu[2:])) / torch.get_num_threads()


def snapshot_seconds(texts: list[str], repeats: int = 3) -> float:
    from course_utils.models import load_model
    from course_utils.training import encode_texts

    model = load_model()
    encode_texts(model, texts[:8])  # warm-up
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        encode_texts(model, texts)
        runs.append(time.perf_counter() - start)
    return float(np.median(runs))


def quality_after(triplets, train, test, steps: int) -> dict:
    from course_utils import evaluation
    from course_utils import training_presets as training

    config = training.TrainingConfig(max_steps=steps, progress="none", snapshot_every=None)
    result = training.train_triplets(triplets, config=config)
    after = evaluation.embedding_report(result.model, train, test, cache=False)
    return {
        "steps": steps,
        "train_s": round(result.train_seconds, 1),
        "sentiment_knn": round(float(after.loc["sentiment", "knn_accuracy"]), 3),
        "topic_knn": round(float(after.loc["topic", "knn_accuracy"]), 3),
        "sentiment_sil": round(float(after.loc["sentiment", "silhouette"]), 3),
        "topic_sil": round(float(after.loc["topic", "silhouette"]), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="*", default=[20, 30, 40])
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[8, 16, 32])
    args = parser.parse_args(argv)

    import course_utils as cu
    from course_utils import training_presets as training

    info = cu.setup(verbose=False)
    print(f"threads {info.threads}; load average before: {_load()}")
    train, test = cu.data.load_course_data("train"), cu.data.load_course_data("test")
    triplets = cu.triplets.make_triplets(train, **training.SENTIMENT_RECIPE, seed=0)

    print("\n| batch | s/step (wall) | s/step (idle estimate) | idle estimate, word embeddings "
          "frozen |\n|---|---|---|---|")
    for batch in args.batch_sizes:
        wall, idle = step_seconds(triplets, batch)
        frozen = (f"{step_seconds(triplets, batch, freeze_embeddings=True)[1]:.2f}"
                  if batch == 16 else "-")
        print(f"| {batch} | {wall:.2f} | {idle:.2f} | {frozen} |", flush=True)
    print(f"\nsnapshot (encode {len(test)} test sentences): "
          f"{snapshot_seconds(test['text'].tolist()):.2f} s")
    print("\n| steps | train s | sentiment kNN | topic kNN | sentiment sil | topic sil |")
    print("|---|---|---|---|---|---|")
    for steps in args.steps:
        row = quality_after(triplets, train, test, steps)
        print(f"| {row['steps']} | {row['train_s']} | {row['sentiment_knn']} | "
              f"{row['topic_knn']} | {row['sentiment_sil']} | {row['topic_sil']} |", flush=True)
    print(f"\nload average after: {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
