"""The committed results of ``make experiments`` (``assets/results/experiments.csv``, written
by ``benchmarks/experiments.py``): the schema (:data:`COLUMNS`, shared by writer and readers),
loading, and mean ± 95% t-interval over seeds, also seed-by-seed paired differences.
Notebooks read these instead of training every variant live.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.paths import assets_dir, restore_advice

#: The losses of notebook 06's comparison ('losses' grid), by their run names in the results,
#: in the order the notebook shows them (trained by ``benchmarks/experiments.py``).
TRIPLET = "TripletLoss"
IN_BATCH = "MultipleNegativesRankingLoss"
IN_BATCH_HARD = "MultipleNegativesRankingLoss + hard negative"
BATCH_HARD = "BatchHardTripletLoss"
LOSS_NAMES = (TRIPLET, IN_BATCH, IN_BATCH_HARD, BATCH_HARD)

#: Notebook 05's configurations ('course' grid), run name -> positives / negatives in words,
#: in the order the notebook shows them; the first two after the untrained model are
#: notebook 05's recipe (:data:`COURSE_RECIPE`) and the same at a 4x lower rate.
COURSE_RECIPE, COURSE_RECIPE_GENTLE = "other_group/same_group", "other_group/same_group lr=5e-05"
COURSE_RUN_LABELS = {
    "pretrained": "pretrained (no training)",
    COURSE_RECIPE: "notebook 05: other-topic / same-topic",
    COURSE_RECIPE_GENTLE: "notebook 05 at lr 5e-5",
    "other_group/hard": "other-topic / hard",
    "other_group/random": "other-topic / random",
    "any/same_group": "any / same-topic",
    "any/random": "any / random",
    "same_group/same_group": "same-topic / same-topic",
    "same_group/random": "same-topic / random",
}

#: The results' columns and what each holds, in file order (the writer's card lists them too).
COLUMNS: dict[str, str] = {
    "grid": "'course' (notebook 05's configuration) or 'losses' (notebook 06's comparison)",
    "run": "the configuration's name, the same for every seed (e.g. 'other_group/same_group')",
    "loss": "the training loss (LOSS_NAMES); 'none' for pretrained",
    "positives": "how positives were chosen (make_triplets' positives=, or how the loss picks)",
    "negatives": "how negatives were chosen (make_triplets' negatives=, or how the loss picks)",
    "learning_rate": "peak learning rate",
    "steps": "optimiser steps (0: the pretrained model, untrained)",
    "batch_size": "examples per step",
    "seed": "seeds both the triplet sampling and the training",
    "sentiment_knn": "held-out sentiment kNN accuracy (k=5, cosine, fit on the train split)",
    "sentiment_silhouette": "cosine silhouette of sentiment on the test split",
    "sentiment_probe": "held-out linear-probe accuracy for sentiment",
    "sentiment_within_fraction": "share of the test embeddings' variation left inside the "
                                 "sentiment classes (cu.collapse.within_class_fraction)",
    "sentiment_spread": "mean distance to the own sentiment centroid (unit vectors), mean over "
                        "classes (cu.collapse.within_class_spread)",
    "sentiment_class_rank": "effective rank of each sentiment class's centred embeddings, "
                            "mean over classes",
    **{f"{label}_{name}": f"{meaning.format(label=label)} ({grid} grid; empty in the other)"
       for grid, label in (("course", "topic"), ("losses", "domain"))
       for name, meaning in (
           ("knn", "held-out {label} kNN accuracy"),
           ("silhouette", "cosine silhouette of {label} on the test split"),
           ("probe", "held-out linear-probe accuracy for {label}"),
           ("chance", "share of the commonest {label} in the test split (kNN's chance level)"),
           ("knn_within_sentiment", "{label} kNN accuracy inside each sentiment: test rows, "
                                    "neighbours from the same sentiment, leave-one-out "
                                    "(cu.collapse.subgroup_knn_within_classes)"),
           ("within_fraction", "share of the variation left inside the {label} classes"),
           ("spread", "mean distance to the own {label} centroid, mean over them"))},
    "collapse_kind": "cu.collapse.detect_class_collapse(test, sentiment, topic or domain): "
                     "collapsed, class-collapsed or spread",
    "train_seconds": "wall time of the optimisation alone",
    "final_loss": "training loss at the last step (empty for pretrained)",
    "run_seconds": "wall time of the whole run: loading, triplets, training, evaluation",
    "date": "day the run finished (UTC, ISO format)",
}
NUMERIC_COLUMNS = tuple(name for name in COLUMNS if name not in (
    "grid", "run", "loss", "positives", "negatives", "collapse_kind", "date"))
#: The second label each grid measures beside sentiment: its columns are named after it.
SECOND_LABEL = {"course": "topic", "losses": "domain"}
GRIDS = tuple(SECOND_LABEL)
CONFIDENCE = 0.95


def results_path() -> Path:
    """Where the committed results live: ``assets/results/experiments.csv``."""
    return assets_dir() / "results" / "experiments.csv"


#: The run names a complete grid holds: one untrained 'pretrained' row, then its
#: configurations over the same seeds ('course': :data:`COURSE_RUN_LABELS`; 'losses':
#: :data:`LOSS_NAMES`), as ``benchmarks/experiments.py`` plans them.
EXPECTED_RUNS: dict[str, tuple[str, ...]] = {
    "course": tuple(COURSE_RUN_LABELS),
    "losses": ("pretrained", *LOSS_NAMES),
}
PRETRAINED = "pretrained"
#: The columns left empty on purpose: the other grid's label, and the pretrained final loss.
_OTHER_LABEL_COLUMNS = {grid: tuple(col for col in COLUMNS
                                    if col.split("_")[0] in set(SECOND_LABEL.values()) - {label})
                        for grid, label in SECOND_LABEL.items()}


def _remedy(path: Path) -> str:
    return (f"Regenerate it with `make experiments` in a checkout (20-25 min on 2 idle cores), "
            f"or restore the committed copy. {restore_advice('assets/results')}")


def _listed(items: Sequence[object], most: int = 6) -> str:
    """``items`` as a short comma-separated list, with how many more there are."""
    shown = ", ".join(str(item) for item in items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def _structure_problems(frame: pd.DataFrame) -> list[str]:
    """What makes the rows unusable one by one: runs no grid plans, a (grid, run, seed) given
    twice, a metric missing or infinite where the run measures it (a cut-off line shows here)."""
    problems = []
    for grid, rows in frame.groupby("grid", sort=False):
        unknown = sorted(set(rows["run"]) - set(EXPECTED_RUNS[grid]))
        if unknown:
            problems.append(f"the {grid!r} grid has run(s) no grid plans: {_listed(unknown)} "
                            f"(expected: {', '.join(EXPECTED_RUNS[grid])})")
    repeated = frame[frame.duplicated(["grid", "run", "seed"], keep="first")]
    if not repeated.empty:
        pairs = [f"{g}/{r} seed {s}" for g, r, s in repeated[["grid", "run", "seed"]].to_numpy()]
        problems.append(f"rows given twice (same grid, run and seed): {_listed(pairs)}")
    pretrained = frame[frame["run"] == PRETRAINED].groupby("grid").size()
    if (pretrained > 1).any():
        problems.append(f"more than one 'pretrained' row in grid(s) "
                        f"{list(pretrained[pretrained > 1].index)}")
    for position, (_, row) in enumerate(frame.iterrows()):
        needed = [col for col in NUMERIC_COLUMNS if col not in _OTHER_LABEL_COLUMNS[row["grid"]]
                  and not (col == "final_loss" and row["run"] == PRETRAINED)]
        values = pd.to_numeric(row[needed], errors="coerce").astype(float)
        broken = list(values.index[~np.isfinite(values.to_numpy())])
        if broken:
            problems.append(f"line {position + 2} ({row['grid']}/{row['run']}) has no finite "
                            f"value for {_listed(broken, 3)}")
    return problems


def _completeness_problems(frame: pd.DataFrame) -> list[str]:
    """What a complete file would have and this one lacks: every grid, its one pretrained row,
    and every planned run for every seed that the grid's runs have."""
    problems = []
    for grid in GRIDS:
        rows = frame[frame["grid"] == grid]
        if rows.empty:
            problems.append(f"the {grid!r} grid is missing")
            continue
        if not (rows["run"] == PRETRAINED).any():
            problems.append(f"the {grid!r} grid has no 'pretrained' row")
        trained = rows[rows["run"] != PRETRAINED]
        seeds = sorted(int(seed) for seed in set(trained["seed"].dropna()))
        have = set(zip(trained["run"], trained["seed"], strict=True))
        missing = [f"{run} seed {seed}" for run in EXPECTED_RUNS[grid][1:] for seed in seeds
                   if (run, seed) not in have]
        if not seeds:
            problems.append(f"the {grid!r} grid has none of its trained runs "
                            f"({', '.join(EXPECTED_RUNS[grid][1:])})")
        elif missing:
            problems.append(f"the {grid!r} grid (seeds {', '.join(map(str, seeds))}) lacks "
                            f"{_listed(missing)}")
    return problems


def validate_results(frame: pd.DataFrame, path: str | os.PathLike = "the results", *,
                     complete: bool = False) -> pd.DataFrame:
    """Return ``frame`` if it has every column of :data:`COLUMNS` with usable values, else
    raise a ValueError naming ``path``, what is wrong and how to get a good copy.

    Always checked: known grids and runs (:data:`EXPECTED_RUNS`), no (grid, run, seed) twice,
    finite metrics where a run measures them. ``complete=True`` also asks for every grid, its
    pretrained row and every run for every seed the grid has: a file cut short, or a run that
    failed, would otherwise summarise to fewer seeds without a word. A ``--quick`` run or one
    grid on its own is legitimately partial, so the runner checks only the structure.
    """
    path = Path(path)
    missing = [col for col in COLUMNS if col not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks column(s) {missing}; it was written by another version "
                         f"of the runner or edited by hand. {_remedy(path)}")
    if frame.empty:
        raise ValueError(f"{path} has no runs. {_remedy(path)}")
    for col in NUMERIC_COLUMNS:
        values = pd.to_numeric(frame[col], errors="coerce")
        if (values.isna() & frame[col].notna()).any():
            raise ValueError(f"{path}: column {col!r} holds values that are not numbers. "
                             f"{_remedy(path)}")
    unknown = sorted(set(frame["grid"].astype(str)) - set(GRIDS))
    if unknown or frame["run"].isna().any():
        raise ValueError(f"{path}: unknown grid(s) {unknown} or runs without a name. "
                         f"{_remedy(path)}")
    problems = _structure_problems(frame)
    if complete and not problems:
        problems = _completeness_problems(frame)
        if problems:
            raise ValueError(f"{path} is incomplete (cut short, or runs failed): "
                             f"{'; '.join(problems)}. {_remedy(path)}")
    if problems:
        raise ValueError(f"{path} is damaged: {'; '.join(problems[:4])}"
                         f"{'' if len(problems) <= 4 else f' (and {len(problems) - 4} more)'}. "
                         f"{_remedy(path)}")
    return frame


def load_results(path: str | os.PathLike | None = None, *, complete: bool = True
                 ) -> pd.DataFrame:
    """The experiment results (default :func:`results_path`), one row per run, validated.

    Complete by default (every grid, run and seed; see :func:`validate_results`), since the
    notebooks' claims count on every seed; ``complete=False`` reads a partial file such as a
    ``--quick`` run's. Raises FileNotFoundError or ValueError that name the file and
    ``make experiments``.
    """
    path = results_path() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: the experiment results are missing. "
                                f"{_remedy(path)}")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a readable CSV ({error}). {_remedy(path)}") from None
    frame = validate_results(frame, path, complete=complete)
    for col in NUMERIC_COLUMNS:
        frame[col] = pd.to_numeric(frame[col])
    return frame


def t_interval_half_width(values: object, confidence: float = CONFIDENCE) -> float:
    """Half-width of the two-sided t-interval for the mean of ``values`` (NaN below 2 values)."""
    from scipy import stats

    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    if len(array) < 2:
        return float("nan")
    quantile = stats.t.ppf(0.5 + confidence / 2, df=len(array) - 1)
    return float(quantile * array.std(ddof=1) / np.sqrt(len(array)))


def _metric_rows(results: pd.DataFrame, metric: str, grid: str | None) -> pd.DataFrame:
    """The rows of ``grid`` (all when None), after checking the table, ``metric`` and ``grid``;
    raises with what was wrong (the readers below share these checks)."""
    if not isinstance(results, pd.DataFrame) or "run" not in results.columns:
        raise TypeError("results must be the table from cu.experiments.load_results().")
    if metric not in results.columns or metric not in NUMERIC_COLUMNS:
        raise ValueError(f"metric must be a numeric column such as 'sentiment_knn'; got "
                         f"{metric!r}. Numeric columns: {list(NUMERIC_COLUMNS)}.")
    if grid is not None:
        if grid not in GRIDS:
            raise ValueError(f"grid must be one of {GRIDS} or None, got {grid!r}.")
        results = results[results["grid"] == grid]
    if results.empty:
        raise ValueError(f"no runs to summarise (grid={grid!r}).")
    return results


def summarise_metric(results: pd.DataFrame, metric: str, *, grid: str | None = None,
                     confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per run name: the mean of ``metric`` over seeds, the 95% t-interval half-width, n.

    ``grid``: keep only ``"course"`` or ``"losses"`` runs; ``None``: all. Returns a DataFrame
    indexed by ``run`` (file order) with columns ``mean``, ``half_width`` (NaN for one seed), ``n``.
    """
    results = _metric_rows(results, metric, grid)
    rows = []
    for run, group in results.groupby("run", sort=False):
        values = pd.to_numeric(group[metric]).dropna()
        rows.append({"run": run, "mean": float(values.mean()) if len(values) else float("nan"),
                     "half_width": t_interval_half_width(values, confidence), "n": len(values)})
    return pd.DataFrame(rows).set_index("run")


def paired_difference(results: pd.DataFrame, metric: str, run_a: str, run_b: str, *,
                      grid: str | None = None, confidence: float = CONFIDENCE) -> pd.Series:
    """``run_a`` minus ``run_b`` on ``metric``, seed by seed (removing what a seed does to both),
    with a t-interval: a Series with ``mean``, ``half_width``, ``low``, ``high`` and ``n``."""
    rows = _metric_rows(results, metric, grid)
    per_seed = {run: rows[rows["run"] == run].set_index("seed")[metric] for run in (run_a, run_b)}
    for run, values in per_seed.items():
        if values.empty:
            known = ", ".join(dict.fromkeys(rows["run"]))
            raise ValueError(f"no run named {run!r} (grid={grid!r}); the runs are: {known}.")
    difference = (per_seed[run_a] - per_seed[run_b]).dropna()
    mean = float(difference.mean()) if len(difference) else float("nan")
    half = t_interval_half_width(difference.to_numpy(), confidence)
    return pd.Series({"mean": mean, "half_width": half, "low": mean - half, "high": mean + half,
                      "n": len(difference)})


def paired_differences(results: pd.DataFrame, *, grid: str | None = None,
                       confidence: float = CONFIDENCE) -> Callable[[str, str, str], pd.Series]:
    """:func:`paired_difference` with ``results`` and ``grid`` filled in: returns
    ``difference(metric, run_a, run_b)``, for a cell that claims several differences."""
    return functools.partial(paired_difference, results, grid=grid, confidence=confidence)


def validate_runs(runs: Sequence[str] | None, known: Sequence[str]) -> list[str]:
    """``runs`` as a list (every ``known`` run when None); raises ValueError naming the unknown
    ones and the runs there are."""
    known = list(known)
    if runs is None:
        return known
    unknown = [run for run in runs if run not in known]
    if unknown:
        raise ValueError(f"unknown run(s) {unknown}; the runs are: {known}.")
    return list(runs)


def interval_table(results: pd.DataFrame, metrics: Sequence[str] | Mapping[str, str], *,
                   grid: str | None = None, runs: Sequence[str] | None = None,
                   digits: int = 3) -> pd.DataFrame:
    """One row per run, one column per metric, each cell ``mean ± half-width`` (95% t-interval).

    ``metrics`` may map a column to a heading; ``runs`` picks and orders the rows.
    """
    headings = dict(metrics) if isinstance(metrics, Mapping) else {m: m for m in metrics}
    columns = {}
    for metric, heading in headings.items():
        summary = summarise_metric(results, metric, grid=grid)
        columns[heading] = [
            f"{row['mean']:.{digits}f}" + ("" if np.isnan(row["half_width"])
                                           else f" ± {row['half_width']:.{digits}f}")
            for _, row in summary.iterrows()]
        index = summary.index
    table = pd.DataFrame(columns, index=index)
    return table.loc[validate_runs(runs, table.index)]
