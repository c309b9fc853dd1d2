"""`make experiments`: the controlled experiment behind notebooks 05 and 06, over seeds.

Two grids, each run once per seed, one row per run in ``assets/results/experiments.csv``
(columns: ``course_utils.experiments.COLUMNS``) plus a card ``assets/results/README.md``:

* **course** - notebook 05's configuration (``TrainingConfig()``: 40 steps, batch 16, lr 2e-4,
  margin 0.5; the course dataset's train split, evaluated on its test split) with positives in
  {any, other_group, same_group} x negatives in {random, same_group}; hard negatives (nearest
  other-sentiment sentence in the pretrained space) with the course's default positives
  (other_group); and the course's default recipe at lr 5e-5.
* **losses** - notebook 06's comparison on VADER (30 steps, batch 16, lr 2e-4, 32 tokens,
  triplets with same-domain negatives): TripletLoss, MultipleNegativesRankingLoss on pairs and
  with a hard-negative column, BatchHardTripletLoss (``train_with_loss`` below).

Each grid also gets one ``pretrained`` row (the untrained model, seed-free). A seed changes
the triplet sampling and the training seed; the data and its train/test split stay fixed.

    python -m benchmarks.experiments [--seeds 0 1 2] [--steps N] [--grid course|losses|all]
                                     [--output DIR] [--quick]

``--grid course`` (or ``losses``) replaces only that grid's rows and keeps the other's.
``--quick`` is a smoke test (2 steps, seed 0, four runs plus the pretrained rows) that writes
to ``build/experiments-quick`` unless ``--output`` is given, never to the committed results;
it refuses ``--seeds`` and ``--steps`` rather than ignore them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.experiments import (
    COLUMNS,
    COURSE_RUN_LABELS,
    GRIDS,
    SECOND_LABEL,
    results_path,
    validate_results,
)
from course_utils.paths import build_dir

DEFAULT_SEEDS = (0, 1, 2)
POSITIVES = ("any", "other_group", "same_group")
NEGATIVES = ("random", "same_group")
LOW_LEARNING_RATE = 5e-5
QUICK_STEPS = 2
#: notebook 06's VADER sample and training settings (cells 3, 7, 14, 15).
VADER_SAMPLE = {"threshold": 1.5, "per_class": 60, "seed": 0}
LOSSES_CONFIG = {"max_steps": 30, "batch_size": 16, "learning_rate": 2e-4, "max_seq_length": 32}


@dataclass(frozen=True)
class Run:
    """One training run of a grid: a configuration and a seed."""

    grid: str
    name: str
    seed: int
    steps: int
    learning_rate: float
    positives: str
    negatives: str
    loss: str = "TripletLoss"


def run_name(positives: str, negatives: str, learning_rate: float | None = None) -> str:
    """``"other_group/same_group"``, with ``" lr=5e-05"`` when not the course's rate."""
    return f"{positives}/{negatives}" + ("" if learning_rate is None else f" lr={learning_rate:g}")


def course_grid(seeds: Sequence[int], steps: int | None = None) -> list[Run]:
    """Notebook 05's configuration: positives x negatives, hard negatives, a lower rate."""
    from course_utils.training_presets import SENTIMENT_RECIPE, TrainingConfig

    default = TrainingConfig()
    steps = default.max_steps if steps is None else steps
    course_positives = SENTIMENT_RECIPE["positives"]
    configs = [(p, n, default.learning_rate, run_name(p, n)) for p in POSITIVES for n in NEGATIVES]
    configs.append((course_positives, "hard", default.learning_rate,
                    run_name(course_positives, "hard")))
    recipe_negatives = SENTIMENT_RECIPE["negatives"]
    configs.append((course_positives, recipe_negatives, LOW_LEARNING_RATE,
                    run_name(course_positives, recipe_negatives, LOW_LEARNING_RATE)))
    return [Run("course", name, seed, steps, lr, p, n)
            for p, n, lr, name in configs for seed in seeds]


#: How each loss of notebook 06 picks its positives and negatives (the CSV's two columns).
LOSS_CONTRASTS = {
    "TripletLoss": ("any", "same_group"),
    "MultipleNegativesRankingLoss": ("any", "in_batch"),
    "MultipleNegativesRankingLoss + hard negative": ("any", "same_group+in_batch"),
    "BatchHardTripletLoss": ("batch_hardest", "batch_hardest"),
}


def losses_grid(seeds: Sequence[int], steps: int | None = None) -> list[Run]:
    """Notebook 06's losses on VADER, each over ``seeds``."""
    from course_utils.experiments import LOSS_NAMES

    steps = LOSSES_CONFIG["max_steps"] if steps is None else steps
    return [Run("losses", loss, seed, steps, LOSSES_CONFIG["learning_rate"],
                *LOSS_CONTRASTS[loss], loss=loss)
            for loss in LOSS_NAMES for seed in seeds]


def quick_runs() -> list[Run]:
    """The smoke test: two course runs (one with hard negatives), two loss runs, 2 steps."""
    course = [r for r in course_grid([0], QUICK_STEPS)
              if r.name in (run_name("other_group", "same_group"), run_name("other_group", "hard"))]
    losses = [r for r in losses_grid([0], QUICK_STEPS)
              if r.loss in ("MultipleNegativesRankingLoss + hard negative",
                            "BatchHardTripletLoss")]
    return course + losses


def plan(grid: str, seeds: Sequence[int], steps: int | None, quick: bool) -> list[Run]:
    """The runs to do, pretrained rows first (one per grid)."""
    runs = quick_runs() if quick else (
        (course_grid(seeds, steps) if grid in ("course", "all") else [])
        + (losses_grid(seeds, steps) if grid in ("losses", "all") else []))
    if quick and grid != "all":
        runs = [r for r in runs if r.grid == grid]
    grids = sorted({r.grid for r in runs}, key=GRIDS.index)
    pretrained = [Run(g, "pretrained", 0, 0, 0.0, "none", "none", loss="none") for g in grids]
    return pretrained + runs


# --------------------------------------------------------------------------------------------
# Data and measurements
# --------------------------------------------------------------------------------------------
class Datasets:
    """The two grids' data, loaded on first use (the losses grid needs the VADER files)."""

    @cached_property
    def course(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        from course_utils.data import load_course_data

        return load_course_data("train"), load_course_data("test")

    @cached_property
    def course_pretrained_train(self) -> np.ndarray:
        """The pretrained embeddings of the course train split (for hard negatives)."""
        from course_utils.embedding import encode

        return encode(self.course[0]["text"].tolist())

    @cached_property
    def vader(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        from course_utils.data import stratified_split
        from course_utils.vader import load_vader

        frame = load_vader(**VADER_SAMPLE)
        split = stratified_split(frame, ["domain", "sentiment"], seed=0)
        return (frame[split == "train"].reset_index(drop=True),
                frame[split == "test"].reset_index(drop=True))

    def split(self, grid: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
        """(train, test, group label) of ``grid``."""
        return (*self.course, "topic") if grid == "course" else (*self.vader, "domain")


def measure(model, train: pd.DataFrame, test: pd.DataFrame, group: str) -> dict[str, object]:
    """The held-out numbers of one model (the metric columns of the CSV)."""
    from course_utils.collapse import (
        detect_class_collapse,
        within_class_fraction,
        within_class_spread,
    )
    from course_utils.embedding import encode
    from course_utils.evaluation import label_report

    # Encoded once, without the on-disk cache (no trained model is seen twice), and shared by
    # the kNN/silhouette/probe report (what embedding_report computes) and the spread measures.
    cache = model is None
    train_emb = encode(train["text"].tolist(), model, cache=cache)
    test_emb = encode(test["text"].tolist(), model, cache=cache)
    report = label_report(train_emb, train, test_emb, test, label_cols=("sentiment", group))
    sentiment_spread = within_class_spread(test_emb, test["sentiment"])
    collapse = detect_class_collapse(test_emb, test["sentiment"], test[group])
    return {
        "sentiment_knn": report.loc["sentiment", "knn_accuracy"],
        "sentiment_silhouette": report.loc["sentiment", "silhouette"],
        "sentiment_probe": report.loc["sentiment", "probe_accuracy"],
        f"{group}_knn": report.loc[group, "knn_accuracy"],
        f"{group}_silhouette": report.loc[group, "silhouette"],
        f"{group}_probe": report.loc[group, "probe_accuracy"],
        f"{group}_chance": report.loc[group, "chance"],
        f"{group}_knn_within_sentiment": collapse.subgroup_knn,
        "sentiment_within_fraction": collapse.within_fraction,
        "sentiment_spread": sentiment_spread["spread"].mean(),
        "sentiment_class_rank": sentiment_spread["effective_rank"].mean(),
        f"{group}_within_fraction": within_class_fraction(test_emb, test[group]),
        f"{group}_spread": within_class_spread(test_emb, test[group])["spread"].mean(),
        "collapse_kind": collapse.kind,
    }


def train_run(run: Run, data: Datasets):
    """Train ``run``'s model; return its TrainingResult (None for the pretrained row)."""
    from course_utils.training_presets import SENTIMENT_RECIPE, TrainingConfig, train_triplets
    from course_utils.triplets import make_triplets

    if run.steps == 0:
        return None
    train, _, group = data.split(run.grid)
    if run.grid == "course":
        config = replace(TrainingConfig(), max_steps=run.steps, learning_rate=run.learning_rate,
                         seed=run.seed, progress="none", snapshot_every=None)
        hard = run.negatives == "hard"
        triplets = make_triplets(
            train, label_col=SENTIMENT_RECIPE["label_col"], group_col=group,
            positives=run.positives, negatives=run.negatives, seed=run.seed,
            embeddings=data.course_pretrained_train if hard else None)
        return train_triplets(triplets, config=config)
    config = TrainingConfig(**{**LOSSES_CONFIG, "max_steps": run.steps}, seed=run.seed,
                            snapshot_every=None, progress="none")
    triplets = make_triplets(train, label_col="sentiment", group_col=group,
                             negatives="same_group", seed=run.seed)
    return train_with_loss(run.loss, triplets, train, config=config)


def train_with_loss(loss_name: str, triplets, sentences=None, *, config=None,
                    label_col: str = "sentiment", text_col: str = "text", model=None):
    """Fine-tune ``model`` (default: a fresh course model) with one of notebook 06's losses
    (``course_utils.experiments.LOSS_NAMES``) on the same sentences, steps, batch size and
    learning rate; only the loss and the shape of the training data change. ``sentences``
    (``text_col``, ``label_col``) feed BatchHardTripletLoss, which mines its own triplets."""
    from sentence_transformers.sentence_transformer import losses

    from course_utils import experiments as names
    from course_utils import training_presets as presets

    config = presets.TrainingConfig() if config is None else config
    if loss_name not in names.LOSS_NAMES:
        raise ValueError(f"loss_name must be one of {names.LOSS_NAMES}, got {loss_name!r}.")
    if loss_name == names.TRIPLET:
        return presets.train_triplets(triplets, model, config=config)
    if loss_name in (names.IN_BATCH, names.IN_BATCH_HARD):
        columns = ["anchor", "positive"] + (["negative"] if loss_name == names.IN_BATCH_HARD
                                            else [])
        if not isinstance(triplets, pd.DataFrame) or not set(columns) <= set(triplets.columns):
            raise ValueError(f"{loss_name} needs a triplets DataFrame with columns {columns}.")
        return presets.train_triplets(triplets[columns], model, config=config,
                                      loss=losses.MultipleNegativesRankingLoss)
    if sentences is None:
        raise ValueError(f"{names.BATCH_HARD} trains on labelled sentences: pass sentences= (a "
                         f"DataFrame with columns {text_col!r} and {label_col!r}).")
    return presets.train_labelled(
        sentences, model, config=config, text_col=text_col, label_col=label_col,
        loss=lambda m: losses.BatchHardTripletLoss(m, margin=config.margin))


def do_run(run: Run, data: Datasets) -> dict[str, object]:
    """Train and measure one run -> one CSV row."""
    from course_utils.training import release_memory

    start = time.perf_counter()
    result = train_run(run, data)
    train, test, group = data.split(run.grid)
    metrics = measure(None if result is None else result.model, train, test, group)
    batch = 0 if result is None else result.config.batch_size
    row = {
        "grid": run.grid, "run": run.name, "loss": run.loss, "positives": run.positives,
        "negatives": run.negatives, "learning_rate": run.learning_rate, "steps": run.steps,
        "batch_size": batch, "seed": run.seed, **metrics,
        "train_seconds": 0.0 if result is None else result.train_seconds,
        "final_loss": (result.losses[-1][1] if result is not None and result.losses
                       else float("nan")),
        "run_seconds": time.perf_counter() - start,
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
    }
    del result
    release_memory()
    return row


# --------------------------------------------------------------------------------------------
# Writing the results and the card
# --------------------------------------------------------------------------------------------
def merge_results(new: pd.DataFrame, csv_path: Path) -> pd.DataFrame:
    """``new`` plus the rows of other grids already in ``csv_path`` (if it is readable)."""
    if not csv_path.is_file():
        return new
    try:
        old = validate_results(pd.read_csv(csv_path), csv_path)
    except (ValueError, pd.errors.ParserError) as error:
        print(f"note: not keeping the old rows of {csv_path} ({error})", file=sys.stderr)
        return new
    kept = old[~old["grid"].isin(set(new["grid"]))]
    merged = pd.concat([kept, new], ignore_index=True)
    order = {g: i for i, g in enumerate(GRIDS)}
    return merged.sort_values("grid", key=lambda s: s.map(order), kind="stable",
                              ignore_index=True)


def render_card(results: pd.DataFrame, machine: dict, wall_s: float, command: str) -> str:
    """The short data card ``README.md`` beside the CSV."""
    from course_utils.training_presets import TrainingConfig

    default = TrainingConfig()
    lines = [
        "# experiments.csv: the controlled experiment behind notebooks 05 and 06",
        "",
        "**What.** One row per fine-tuning run of the course model (all-MiniLM-L6-v2), measured "
        "on held-out sentences. Written by `make experiments` (`benchmarks/experiments.py`); "
        "read by notebooks 05 and 06 through `cu.experiments.load_results()` and "
        "`cu.experiments.summarise_metric()` (mean, 95% t-interval over seeds, n).",
        "",
        "| grid | runs | configurations | seeds | steps | wall time (sum of run_seconds) | "
        "date |",
        "|---|---|---|---|---|---|---|",
    ]
    for grid, part in results.groupby("grid", sort=False):
        trained = part[part["steps"] > 0]
        lines.append(
            f"| {grid} | {len(part)} | {part['run'].nunique()} | "
            f"{', '.join(str(s) for s in sorted(trained['seed'].unique()))} | "
            f"{', '.join(str(s) for s in sorted(trained['steps'].unique()))} | "
            f"{part['run_seconds'].sum() / 60:.1f} min | {part['date'].max()} |")
    lines += [
        "",
        f"**This invocation.** `{command}` took {wall_s / 60:.1f} min on "
        f"{machine['cpu']} ({machine['cores_available']} cores available, "
        f"{machine['torch_threads']} torch threads), Python {machine['python']}, torch "
        f"{machine['torch']}, {machine['os']}.",
        "",
        "**Config.**",
        f"- *course*: `TrainingConfig()` defaults ({default.max_steps} steps, batch "
        f"{default.batch_size}, lr {default.learning_rate:g}, warm-up {default.warmup_ratio}, "
        f"TripletLoss {default.distance} margin {default.margin}, {default.max_seq_length} "
        "tokens); triplets from the course dataset's train split with "
        "`make_triplets(label_col='sentiment', group_col='topic', positives=..., "
        "negatives=..., seed=seed)`; positives x negatives, plus hard negatives (nearest "
        "other-sentiment sentence in the pretrained space) with positives other_group, plus "
        f"other_group/same_group at lr {LOW_LEARNING_RATE:g}. Evaluated on the test split.",
        f"- *losses*: notebook 06's VADER sample (`load_vader({VADER_SAMPLE})`, stratified "
        f"split seed 0), {LOSSES_CONFIG['max_steps']} steps, batch "
        f"{LOSSES_CONFIG['batch_size']}, lr {LOSSES_CONFIG['learning_rate']:g}, "
        f"{LOSSES_CONFIG['max_seq_length']} tokens; triplets with same-domain negatives; "
        "losses trained by `benchmarks/experiments.py` (`train_with_loss`; "
        "MultipleNegativesRankingLoss at the library's scale 20, i.e. temperature 0.05).",
        "- A seed changes the triplet sampling and the training seed; the data and the split "
        "stay fixed. `pretrained` rows are the untrained model (no seed).",
        "",
        "**Run names** of the course grid (notebook 05 shows them in words, "
        "`cu.experiments.COURSE_RUN_LABELS`): positives / negatives as `make_triplets` names "
        "them, with the learning rate where it is not the default.",
        "",
        "| run | in words |",
        "|---|---|",
        *[f"| `{run}` | {label} |" for run, label in COURSE_RUN_LABELS.items()],
        "",
        "**Columns.**",
        "",
        *[f"- `{name}`: {meaning}" for name, meaning in COLUMNS.items()],
        "",
        "**Regenerate.** `make experiments` (every grid, 3 seeds) on a quiet machine, then "
        "commit both files. `python -m benchmarks.experiments --grid course` (or `losses`) "
        "reruns one grid and keeps the other's rows. Timings depend on the machine and on "
        "other load; the metrics should not (same seed, same numbers on one machine).",
        "",
    ]
    return "\n".join(lines)


def write_results(results: pd.DataFrame, card: str, output: Path) -> None:
    """Write ``experiments.csv`` and ``README.md`` into ``output``, each atomically."""
    from course_utils.safe_output import write_atomically

    write_atomically(output / "experiments.csv",
                     results.to_csv(index=False, float_format="%.6g").encode("utf-8"))
    write_atomically(output / "README.md", card.encode("utf-8"))


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="seeds per configuration (default: 0 1 2)")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per run for every grid (default: 40 course, 30 losses)")
    parser.add_argument("--grid", choices=("course", "losses", "all"), default="all")
    parser.add_argument("--output", type=Path, default=None,
                        help="folder for experiments.csv and README.md (default: "
                             "assets/results; build/experiments-quick with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 steps, seed 0, four runs")
    args = parser.parse_args(argv)
    if args.quick and (args.seeds is not None or args.steps is not None):
        parser.error("--quick always runs seed 0 for 2 steps; leave out --seeds/--steps, or "
                     "leave out --quick to choose them")
    args.seeds = list(DEFAULT_SEEDS) if args.seeds is None else args.seeds
    if any(seed < 0 for seed in args.seeds) or len(set(args.seeds)) != len(args.seeds):
        parser.error("--seeds must be distinct whole numbers >= 0")
    if args.steps is not None and args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.output is None:
        args.output = (build_dir() / "experiments-quick" if args.quick
                       else results_path().parent)
    return args


def main(argv: list[str] | None = None) -> int:
    import course_utils as cu
    from benchmarks.machine import describe_machine
    from course_utils.embedding import TextWarning

    args = parse_args(argv)
    info = cu.setup(plots=False, verbose=False)
    # The losses grid's models keep notebook 06's 32 tokens, so evaluating them cuts the longer
    # VADER sentences exactly as the notebook does; one warning per run would only be noise.
    warnings.filterwarnings("ignore", category=TextWarning)
    runs = plan(args.grid, args.seeds, args.steps, args.quick)
    if any(r.grid == "losses" for r in runs):
        from course_utils.vader import how_to_get_the_data, is_cached

        if not is_cached():
            print(f"The losses grid needs the VADER files. {how_to_get_the_data()}",
                  file=sys.stderr)
            return 1
    data = Datasets()
    start = time.perf_counter()
    rows = []
    for number, run in enumerate(runs, 1):
        row = do_run(run, data)
        rows.append(row)
        group = SECOND_LABEL[run.grid]
        print(f"[{number}/{len(runs)}] {run.grid} {run.name} seed {run.seed}: sentiment kNN "
              f"{row['sentiment_knn']:.3f}, {group} kNN {row[group + '_knn']:.3f}, "
              f"{row['collapse_kind']}, {row['run_seconds']:.0f} s", flush=True)
    wall_s = time.perf_counter() - start
    new = pd.DataFrame(rows, columns=list(COLUMNS))
    results = merge_results(new, args.output / "experiments.csv")
    # Never write a committed results file the notebooks would refuse (a quick run may be partial).
    validate_results(results, args.output / "experiments.csv", complete=not args.quick)
    command = "python -m benchmarks.experiments " + " ".join(argv if argv is not None
                                                              else sys.argv[1:])
    card = render_card(results, describe_machine(info.threads), wall_s, command.strip())
    write_results(results, card, args.output)
    print(f"{len(rows)} runs in {wall_s / 60:.1f} min -> {args.output / 'experiments.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
