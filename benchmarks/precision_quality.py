"""What bfloat16 training changes in the numbers the course checks, over seeds (issue 27).

    python -m benchmarks.precision_quality [--seeds 0 1 2] [--output build/precision_quality.csv]

For every seed, trains three of the course's models twice, once in float32 and once with the
trainer's ``bf16=True`` on the CPU (autocast), with everything else the same (triplets, seed,
steps), and measures each on the held-out sentences in float32:

- ``05``: notebook 05's recipe (40 steps): the experiment's measures (``benchmarks.experiments
  .measure``): kNN and silhouette per label, topic kNN inside a sentiment, spread;
- ``08-multi``: notebook 08's two-task run without prompts (60 steps): kNN per label;
- ``08-prompts``: notebook 08's prompted run (40 steps): kNN per label under each prompt.

Prints, per model and measure, the mean and 95% t-interval of each precision and of the
paired difference bf16 - float32 (same seed), and writes every run to ``--output``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

PRECISIONS = ("float32", "bf16")
MODELS = ("05", "08-multi", "08-prompts")
#: the measures the table shows, per model (the CSV keeps every column).
SHOWN = {
    "05": ["sentiment_knn", "topic_knn", "sentiment_silhouette", "topic_silhouette",
           "topic_knn_within_sentiment", "sentiment_spread"],
    "08-multi": ["knn topic", "knn sentiment", "knn topic+sentiment"],
    "08-prompts": ['"sentiment: " sentiment knn', '"topic: " topic knn',
                   '"topic: " sentiment knn', '"sentiment: " topic knn'],
}


def _datasets(sets: dict[str, pd.DataFrame]):
    from datasets import Dataset

    return {task: Dataset.from_pandas(frame[["anchor", "positive", "negative"]],
                                      preserve_index=False) for task, frame in sets.items()}


def _losses(model, tasks):
    from sentence_transformers.sentence_transformer.losses import (
        TripletDistanceMetric,
        TripletLoss,
    )

    return {task: TripletLoss(model, distance_metric=TripletDistanceMetric.EUCLIDEAN,
                              triplet_margin=0.5) for task in tasks}


def train_and_measure(name: str, precision: str, seed: int, train, test) -> dict:
    """One run of model ``name`` -> its row."""
    import course_utils as cu
    from benchmarks.experiments import measure
    from course_utils.multitask import NESTED_SENTIMENT_RECIPE, TOPIC_ONLY_RECIPE, prompt_report
    from course_utils.training_presets import SENTIMENT_RECIPE

    model = cu.models.load_model()
    options = {"seed": seed, "progress": "none", "bf16": precision == "bf16", "use_cpu": True}
    make = cu.triplets.make_triplets
    start = time.perf_counter()
    if name == "05":
        sets = {"05": make(train, **SENTIMENT_RECIPE, seed=seed)}
        result = cu.training.fine_tune(model, _datasets(sets)["05"],
                                       _losses(model, ["05"])["05"], **options)
        row = measure(model, train, test, "topic")
    else:
        prompts = {"sentiment": "sentiment: ", "topic": "topic: "}
        if name == "08-multi":
            sets = {"sentiment": make(train, **NESTED_SENTIMENT_RECIPE, seed=seed),
                    "topic": make(train, **TOPIC_ONLY_RECIPE, seed=seed)}
            extra, steps = {}, 60
        else:
            topic_recipe = {"label_col": "topic", "group_col": "sentiment",
                            "negatives": "same_group", "positives": "other_group"}
            sets = {"sentiment": make(train, **SENTIMENT_RECIPE, seed=seed),
                    "topic": make(train, **topic_recipe, seed=seed)}
            extra, steps = {"prompts": prompts}, 40
        result = cu.training.fine_tune(model, _datasets(sets), _losses(model, sets),
                                       max_steps=steps, multi_dataset_batch_sampler="round_robin",
                                       **extra, **options)
        labels = ("topic", "sentiment", "topic+sentiment")
        if name == "08-multi":
            report = cu.evaluation.embedding_report(model, train, test, label_cols=labels)
            row = {f"knn {label}": report.loc[label, "knn_accuracy"] for label in labels}
        else:
            asked = {prompt: prompt for prompt in prompts.values()}
            knn = prompt_report(model, train, test, asked)["knn_accuracy"]
            row = {f'"{prompt}" {label} knn': knn.loc[prompt, label]
                   for prompt in prompts.values() for label in ("sentiment", "topic")}
    seconds = time.perf_counter() - start
    cu.training.release_memory()
    return {"model": name, "precision": precision, "seed": seed, **row,
            "train_seconds": result.train_seconds, "run_seconds": seconds,
            "final_loss": result.losses[-1][1] if result.losses else float("nan")}


def summary(runs: pd.DataFrame) -> str:
    """Markdown: mean [95% interval] per precision and for the paired difference."""
    from course_utils.experiments import t_interval_half_width

    def cell(values) -> str:
        values = np.asarray(values, dtype=float)
        return f"{values.mean():.3f} ± {t_interval_half_width(values):.3f}"

    seeds = sorted(runs["seed"].unique())
    lines = [f"Seeds {', '.join(map(str, seeds))} (n = {len(seeds)}); mean ± half-width of "
             "the 95% t-interval. Difference: bf16 - float32 of the same seed.", "",
             "| model | measure | float32 | bf16 | difference (paired) | float32 interval "
             "holds bf16 mean |", "|---|---|---:|---:|---:|---|"]
    for name in MODELS:
        mine = runs[runs["model"] == name]
        if mine.empty:
            continue
        for measure_name in SHOWN[name]:
            table = mine.pivot(index="seed", columns="precision", values=measure_name)
            low = table["float32"].mean() - t_interval_half_width(table["float32"])
            high = table["float32"].mean() + t_interval_half_width(table["float32"])
            inside = "yes" if low <= table["bf16"].mean() <= high else "no"
            lines.append(f"| {name} | {measure_name} | {cell(table['float32'])} | "
                         f"{cell(table['bf16'])} | {cell(table['bf16'] - table['float32'])} | "
                         f"{inside} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import course_utils as cu

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--output", type=Path, default=Path("build/precision_quality.csv"))
    args = parser.parse_args(argv)
    cu.setup(plots=False, verbose=False)
    train = cu.data.load_course_data("train")
    test = cu.data.load_course_data("test")
    for frame in (train, test):
        frame["topic+sentiment"] = frame["topic"] + " / " + frame["sentiment"]
    rows = []
    for seed in args.seeds:
        for name in args.models:
            for precision in PRECISIONS:
                rows.append(train_and_measure(name, precision, seed, train, test))
                shown = {k: round(float(rows[-1][k]), 3) for k in SHOWN[name]}
                print(f"{name} {precision} seed {seed}: {shown}, "
                      f"{rows[-1]['train_seconds']:.0f} s training", flush=True)
                args.output.parent.mkdir(parents=True, exist_ok=True)
                pd.DataFrame(rows).to_csv(args.output, index=False)
    print(summary(pd.DataFrame(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
