"""Reading the committed experiment results (course_utils.experiments) and the runner behind
``make experiments`` (benchmarks/experiments.py): its grids, its files, a 2-step smoke run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmarks import experiments as runner
from course_utils import experiments


def _results(values_by_run: dict[str, list[float]], grid: str = "course") -> pd.DataFrame:
    """A valid results table with ``sentiment_knn`` set per run and seed, the rest zeros."""
    rows = []
    for run, values in values_by_run.items():
        for seed, value in enumerate(values):
            row = {col: 0.0 for col in experiments.NUMERIC_COLUMNS}
            row.update(grid=grid, run=run, loss="TripletLoss", positives="any", negatives="random",
                       collapse_kind="spread", date="2025-01-01",
                       seed=seed, sentiment_knn=value)
            rows.append(row)
    return pd.DataFrame(rows, columns=list(experiments.COLUMNS))


def _complete_results(seeds: tuple[int, ...] = (0, 1, 2)) -> pd.DataFrame:
    """A complete results table: per grid one pretrained row and every planned run for every
    seed, each measuring its grid's columns (the other grid's and pretrained final_loss empty)."""
    rows = []
    for grid, runs in experiments.EXPECTED_RUNS.items():
        for run in runs:
            for seed in (0,) if run == "pretrained" else seeds:
                row = {col: 0.5 for col in experiments.NUMERIC_COLUMNS}
                row.update({col: np.nan for col in experiments.COLUMNS
                            if col.startswith("domain" if grid == "course" else "topic")})
                row.update(grid=grid, run=run, loss="TripletLoss", positives="any",
                           negatives="random", collapse_kind="spread", date="2025-01-01",
                           seed=seed, final_loss=np.nan if run == "pretrained" else 0.1)
                rows.append(row)
    return pd.DataFrame(rows, columns=list(experiments.COLUMNS))


# ------------------------------------------------------------------ summary over seeds
def test_summary_gives_mean_t_interval_and_n_per_run_in_file_order():
    table = _results({"b": [0.8, 0.9, 1.0], "a": [0.5, 0.5, 0.5], "single": [0.7]})
    summary = experiments.summarise_metric(table, "sentiment_knn")
    assert list(summary.index) == ["b", "a", "single"]
    assert list(summary["n"]) == [3, 3, 1]
    assert summary.loc["b", "mean"] == pytest.approx(0.9)
    expected = stats.t.ppf(0.975, 2) * np.std([0.8, 0.9, 1.0], ddof=1) / np.sqrt(3)
    assert summary.loc["b", "half_width"] == pytest.approx(expected)  # 4.30 * 0.1 / 1.73
    assert summary.loc["a", "half_width"] == pytest.approx(0.0)
    assert np.isnan(summary.loc["single", "half_width"])


def test_summary_filters_by_grid_and_rejects_bad_requests():
    table = pd.concat([_results({"x": [0.1, 0.3]}), _results({"y": [0.9, 0.9]}, "losses")])
    assert list(experiments.summarise_metric(table, "sentiment_knn", grid="losses").index) == ["y"]
    with pytest.raises(ValueError, match="numeric column"):
        experiments.summarise_metric(table, "collapse_kind")
    with pytest.raises(ValueError, match="grid"):
        experiments.summarise_metric(table, "sentiment_knn", grid="nope")
    with pytest.raises(TypeError, match="load_results"):
        experiments.summarise_metric([1, 2], "sentiment_knn")


def test_t_interval_half_width():
    assert np.isnan(experiments.t_interval_half_width([0.5]))
    assert experiments.t_interval_half_width([1.0, 3.0]) == pytest.approx(
        stats.t.ppf(0.975, 1) * np.sqrt(2) / np.sqrt(2))


def test_paired_difference_subtracts_seed_by_seed():
    table = _results({"a": [0.9, 0.8, 0.7], "b": [0.8, 0.7, 0.6]})
    diff = experiments.paired_difference(table, "sentiment_knn", "a", "b")
    assert diff["mean"] == pytest.approx(0.1)
    assert diff["half_width"] == pytest.approx(0.0, abs=1e-12)  # the same gap in every seed
    assert diff["n"] == 3 and diff["low"] > 0
    noisy = _results({"a": [0.9, 0.6, 0.8], "b": [0.8, 0.7, 0.7]})
    spread = experiments.paired_difference(noisy, "sentiment_knn", "a", "b")
    assert spread["low"] < 0 < spread["high"]  # not supported: the interval holds 0
    with pytest.raises(ValueError, match="no run named 'c'"):
        experiments.paired_difference(table, "sentiment_knn", "a", "c")


def test_paired_differences_fixes_the_table_and_the_grid():
    table = pd.concat([_results({"a": [0.9, 0.8, 0.7], "b": [0.8, 0.7, 0.6]}),
                       _results({"a": [0.1, 0.1, 0.1], "b": [0.5, 0.5, 0.5]}, grid="losses")])
    difference = experiments.paired_differences(table, grid="course")
    pd.testing.assert_series_equal(
        difference("sentiment_knn", "a", "b"),
        experiments.paired_difference(table, "sentiment_knn", "a", "b", grid="course"))
    assert difference("sentiment_knn", "a", "b")["mean"] == pytest.approx(0.1)


def test_validate_runs_keeps_the_order_asked_for_and_names_unknown_runs():
    assert experiments.validate_runs(None, pd.Index(["a", "b"])) == ["a", "b"]
    assert experiments.validate_runs(("b", "a"), ["a", "b"]) == ["b", "a"]
    with pytest.raises(ValueError, match=r"unknown run\(s\) \['c'\]; the runs are: \['a', 'b'\]"):
        experiments.validate_runs(["a", "c"], ["a", "b"])


def test_interval_table_formats_mean_and_half_width():
    table = _results({"b": [0.8, 0.9, 1.0], "single": [0.7]})
    shown = experiments.interval_table(table, {"sentiment_knn": "sentiment kNN"}, digits=2)
    assert shown.loc["b", "sentiment kNN"] == "0.90 ± 0.25"
    assert shown.loc["single", "sentiment kNN"] == "0.70"
    assert list(experiments.interval_table(table, ["sentiment_knn"], runs=["single"]).index) == [
        "single"]
    with pytest.raises(ValueError, match="unknown run"):
        experiments.interval_table(table, ["sentiment_knn"], runs=["nope"])


# ------------------------------------------------------------------ loading and validation
def test_results_round_trip_through_the_file(tmp_path):
    path = tmp_path / "experiments.csv"
    _complete_results().to_csv(path, index=False)
    loaded = experiments.load_results(path)
    assert list(loaded.columns) == list(experiments.COLUMNS) and len(loaded) == 2 + 3 * (8 + 4)


def _cut(path, fraction: float) -> None:
    """Keep the first ``fraction`` of the file's characters, as an interrupted copy would."""
    text = path.read_text()
    path.write_text(text[:int(len(text) * fraction)])


@pytest.mark.parametrize(("fraction", "message"), [
    (2 / 3, "is damaged: line .* has no finite value"),   # cut in the middle of a line
    (0.95, "is damaged: the 'losses' grid has run\\(s\\) no grid plans"),  # a cut run name
])
def test_a_file_cut_short_is_refused_not_summarised(tmp_path, fraction, message):
    """The committed file cut to 2/3 loaded 26 rows; cut to 95% it made up a run 'BatchHard'."""
    if not experiments.results_path().exists():
        pytest.skip("no committed results yet: run `make experiments`")
    path = tmp_path / "experiments.csv"
    path.write_bytes(experiments.results_path().read_bytes())
    _cut(path, fraction)
    with pytest.raises(ValueError, match=message) as raised:
        experiments.load_results(path)
    assert str(path) in str(raised.value) and "make experiments" in str(raised.value)
    assert "git checkout" in str(raised.value)


def test_a_file_cut_at_a_line_end_is_refused_as_incomplete(tmp_path):
    path = tmp_path / "experiments.csv"
    table = _complete_results()
    table.iloc[:-1].to_csv(path, index=False)  # the last seed of the last loss is gone
    with pytest.raises(ValueError, match="incomplete.*'losses' grid \\(seeds 0, 1, 2\\) lacks "
                                         "BatchHardTripletLoss seed 2"):
        experiments.load_results(path)
    table[table["grid"] == "course"].to_csv(path, index=False)  # only one grid
    with pytest.raises(ValueError, match="the 'losses' grid is missing"):
        experiments.load_results(path)
    assert len(experiments.load_results(path, complete=False)) == 1 + 8 * 3


def test_every_run_needs_every_seed_its_grid_has(tmp_path):
    table = _complete_results()
    extra = table[(table["run"] == "TripletLoss")].iloc[[0]].assign(seed=3)  # one run, seed 3
    with pytest.raises(ValueError, match="lacks MultipleNegativesRankingLoss seed 3"):
        experiments.validate_results(pd.concat([table, extra]), complete=True)


def test_a_row_given_twice_is_refused_even_for_a_partial_file():
    table = _complete_results()
    doubled = pd.concat([table, table.iloc[[5]]], ignore_index=True)
    with pytest.raises(ValueError, match="rows given twice.*course/.* seed"):
        experiments.validate_results(doubled)
    two_pretrained = pd.concat([table, table.iloc[[0]].assign(seed=1)], ignore_index=True)
    with pytest.raises(ValueError, match="more than one 'pretrained' row"):
        experiments.validate_results(two_pretrained)


@pytest.mark.parametrize("column", ["sentiment_knn", "topic_probe", "final_loss", "seed"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_metric_missing_where_the_run_measures_it_is_refused(column, value):
    table = _complete_results()
    table[column] = table[column].astype(float)
    table.loc[3, column] = value  # a trained course run
    with pytest.raises(ValueError, match=f"line 5 .*no finite value for {column}"):
        experiments.validate_results(table)


def test_columns_a_run_does_not_measure_may_stay_empty():
    table = _complete_results()
    assert table["final_loss"].isna().sum() == 2 and table["topic_knn"].isna().any()
    assert experiments.validate_results(table, complete=True) is table


def test_a_quick_runs_partial_file_passes_the_structure_check(tmp_path):
    planned = {(r.grid, r.name) for r in runner.plan("all", [0], None, quick=True)}
    table = _complete_results()
    quick = table[[(g, r) in planned and s == 0 for g, r, s
                   in zip(table["grid"], table["run"], table["seed"], strict=True)]]
    assert len(quick) == 6
    quick.to_csv(tmp_path / "experiments.csv", index=False)
    assert len(experiments.load_results(tmp_path / "experiments.csv", complete=False)) == 6
    with pytest.raises(ValueError, match="incomplete"):
        experiments.load_results(tmp_path / "experiments.csv")


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (None, FileNotFoundError, "does not exist"),
        ("", ValueError, "not a readable CSV"),
        ("grid,run\ncourse,x\n", ValueError, "lacks column"),
        ("header only", ValueError, "lacks column"),
    ],
)
def test_missing_or_malformed_results_name_the_file_and_the_fix(tmp_path, content, error,
                                                                message):
    path = tmp_path / "experiments.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(error, match=message) as raised:
        experiments.load_results(path)
    assert str(path) in str(raised.value) and "make experiments" in str(raised.value)


def test_non_numbers_in_a_metric_column_are_rejected(tmp_path):
    table = _results({"x": [0.1, 0.2]})
    table["sentiment_knn"] = ["high", "low"]
    table.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="sentiment_knn.*make experiments"):
        experiments.load_results(tmp_path / "bad.csv")
    with pytest.raises(ValueError, match="no runs"):
        experiments.validate_results(table.iloc[:0])


def test_the_default_path_is_the_committed_results():
    assert experiments.results_path().parts[-3:] == ("assets", "results", "experiments.csv")


def test_the_committed_results_are_valid_and_complete():
    path = experiments.results_path()
    if not path.exists():
        pytest.skip("no committed results yet: run `make experiments`")
    results = experiments.load_results(path)
    assert set(results["grid"]) == set(experiments.GRIDS)
    planned = runner.plan("all", list(runner.DEFAULT_SEEDS), None, quick=False)
    assert sorted(zip(results["run"], results["seed"], strict=True)) == sorted(
        (r.name, r.seed) for r in planned), "rerun `make experiments`: the grid has changed"
    assert (path.parent / "README.md").exists()


# ------------------------------------------------------------------ the runner's plan
def test_the_course_grid_is_notebook_05s_config_over_positives_negatives_and_seeds():
    runs = runner.course_grid([0, 1, 2])
    assert len(runs) == (3 * 2 + 2) * 3
    names = list(dict.fromkeys(r.name for r in runs))
    assert names[:2] == ["any/random", "any/same_group"]
    assert names[-2:] == ["other_group/hard", "other_group/same_group lr=5e-05"]
    assert {r.steps for r in runs} == {40} and {r.seed for r in runs} == {0, 1, 2}
    assert {r.learning_rate for r in runs} == {2e-4, 5e-5}
    assert {r.steps for r in runner.course_grid([0], steps=7)} == {7}


def test_the_losses_grid_has_every_loss_of_notebook_06():
    from course_utils.experiments import LOSS_NAMES

    runs = runner.losses_grid([0, 1])
    assert [r.loss for r in runs[::2]] == list(LOSS_NAMES)
    assert {r.steps for r in runs} == {30} and len(runs) == 2 * len(LOSS_NAMES)


def test_the_plan_starts_with_one_pretrained_row_per_grid():
    runs = runner.plan("all", [0, 1, 2], None, quick=False)
    assert [r.name for r in runs[:2]] == ["pretrained", "pretrained"]
    assert len(runs) == 2 + 24 + 12
    only_course = runner.plan("course", [0], None, quick=False)
    assert {r.grid for r in only_course} == {"course"}
    quick = runner.plan("all", [0], None, quick=True)
    assert len(quick) == 6 and {r.steps for r in quick} == {0, runner.QUICK_STEPS}


def test_arguments_default_to_the_committed_results_but_quick_runs_elsewhere():
    args = runner.parse_args([])
    assert args.output == experiments.results_path().parent and args.seeds == [0, 1, 2]
    assert "build" in runner.parse_args(["--quick"]).output.parts
    with pytest.raises(SystemExit):
        runner.parse_args(["--seeds", "1", "1"])
    with pytest.raises(SystemExit):
        runner.parse_args(["--steps", "0"])


@pytest.mark.parametrize("fixed", [["--seeds", "3"], ["--steps", "5"]])
def test_quick_refuses_seeds_and_steps_it_would_ignore(fixed, capsys):
    with pytest.raises(SystemExit):
        runner.parse_args(["--quick", *fixed])
    assert "--quick always runs seed 0 for 2 steps" in capsys.readouterr().err


def test_rerunning_one_grid_keeps_the_other_grids_rows(tmp_path):
    path = tmp_path / "experiments.csv"
    table = _complete_results()
    table.to_csv(path, index=False)
    course = table[table["grid"] == "course"]
    merged = runner.merge_results(course.iloc[:3], path)
    assert list(merged["grid"]) == ["course"] * 3 + ["losses"] * (1 + 4 * 3)
    experiments.validate_results(merged)
    (tmp_path / "broken.csv").write_text("not,the,schema\n")
    assert len(runner.merge_results(course.iloc[:2], tmp_path / "broken.csv")) == 2


def test_a_quick_course_run_merges_with_an_earlier_quick_losses_run(tmp_path):
    path = tmp_path / "experiments.csv"  # partial, as --quick writes it: structure is enough
    table = _complete_results()
    table[(table["grid"] == "losses") & (table["seed"] == 0)].to_csv(path, index=False)
    merged = runner.merge_results(table[table["grid"] == "course"].iloc[:2], path)
    assert list(merged["grid"]) == ["course"] * 2 + ["losses"] * 5


# ------------------------------------------------------------------ end to end, 2 steps
@pytest.mark.slow  # trains four tiny runs and evaluates six models (~2 min on 2 cores)
def test_the_quick_run_writes_a_valid_results_file_and_card(tmp_path):
    from course_utils.vader import is_cached

    if not is_cached():
        pytest.skip("the VADER files are not cached (run `make data`)")
    assert runner.main(["--quick", "--output", str(tmp_path)]) == 0
    results = experiments.load_results(tmp_path / "experiments.csv", complete=False)
    assert len(results) == 6 and set(results["grid"]) == {"course", "losses"}
    trained = results[results["steps"] > 0]
    assert set(trained["steps"]) == {runner.QUICK_STEPS}
    assert trained["final_loss"].notna().all() and (trained["train_seconds"] > 0).all()
    for col in ("sentiment_knn", "sentiment_within_fraction"):
        assert results[col].between(0, 1).all()
    for grid, label in experiments.SECOND_LABEL.items():  # each grid fills its own label's
        rows = results[results["grid"] == grid]
        assert rows[f"{label}_knn"].between(0, 1).all(), grid
        other = "domain" if label == "topic" else "topic"
        assert rows[f"{other}_knn"].isna().all(), grid
    assert set(results["collapse_kind"]) <= {"collapsed", "class-collapsed", "spread"}
    card = (tmp_path / "README.md").read_text()
    assert "make experiments" in card and "sentiment_knn" in card
    assert not list(tmp_path.glob(".tmp-*"))  # atomic writes leave no temporary files
