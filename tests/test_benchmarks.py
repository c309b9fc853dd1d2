"""The benchmark scripts' own plumbing (not timings): tables and results read from a kernel."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pandas as pd
import pytest

from benchmarks import compare_outputs
from benchmarks.notebook_profile import profile_notebook
from benchmarks.run_all import markdown_table, read_table
from benchmarks.training_efficiency import parse_training


def _report() -> pd.DataFrame:
    columns = pd.MultiIndex.from_product([["knn_accuracy", "silhouette"],
                                          ["before", "after", "change"]])
    return pd.DataFrame(np.arange(12, dtype=float).reshape(2, 6) / 10, columns=columns,
                        index=pd.Index(["topic", "sentiment"], name="label"))


def test_a_before_after_table_survives_csv_and_renders():
    table = read_table(_report().to_csv())
    pd.testing.assert_frame_equal(table, _report(), check_names=False)
    markdown = markdown_table(table)
    assert markdown.splitlines()[0].startswith("| label | knn_accuracy before |")
    assert "| sentiment | 0.600 | 0.700 |" in markdown


def test_a_flat_table_with_text_renders():
    flat = pd.DataFrame({"kNN": [0.95, 0.9], "note": ["a", "b"]},
                        index=pd.Index(["TripletLoss", "MNRL"], name="loss"))
    table = read_table(flat.to_csv())
    assert list(table.columns) == ["kNN", "note"]
    assert "| MNRL | 0.900 | b |" in markdown_table(table)


def test_training_results_are_parsed_from_the_last_printed_line():
    printed = "a progress line\n" + json.dumps({"train_s": 46.0, "steps": 40}) + "\n"
    assert parse_training(printed) == {"train_s": 46.0, "steps": 40}


@pytest.mark.process
def test_profile_collects_what_the_kernel_prints(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# tiny"),
                      nbformat.v4.new_code_cell("answer = 6 * 7")]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, path)
    profile = profile_notebook(path, collect={"answer": "print(answer)"}, timeout=120)
    assert profile.collected == {"answer": "42\n"}
    assert profile.wall_s > 0 and profile.slowest_warm_cell_s is not None


@pytest.mark.process
def test_a_snippet_that_raises_stops_the_profile(tmp_path):
    from nbclient.exceptions import CellExecutionError

    path = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    with pytest.raises(CellExecutionError, match="NameError"):
        profile_notebook(path, collect={"missing": "print(not_defined)"}, timeout=120)


def _executed(folder, name: str, printed: str) -> None:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(...)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    notebook.cells = [nbformat.v4.new_markdown_cell("# t"), cell]
    folder.mkdir(exist_ok=True)
    nbformat.write(notebook, folder / name)


def test_outputs_compare_equal_when_only_timings_changed(tmp_path, capsys):
    _executed(tmp_path / "a", "05.ipynb", "40 steps in 20.9 s (0.52 s/step); final loss 0.049\n")
    _executed(tmp_path / "b", "05.ipynb", "40 steps in 31.2 s (0.78 s/step); final loss 0.049\n")
    assert compare_outputs.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "05.ipynb: 1 printed lines, same" in capsys.readouterr().out


def test_a_changed_number_is_reported_with_its_cell(tmp_path, capsys):
    _executed(tmp_path / "a", "05.ipynb", "sentiment kNN 0.895\n")
    _executed(tmp_path / "b", "05.ipynb", "sentiment kNN 0.905\n")
    assert compare_outputs.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "-[cell 0] sentiment kNN 0.895" in out and "+[cell 0] sentiment kNN 0.905" in out


def test_an_empty_folder_says_to_run_the_course_first(tmp_path):
    (tmp_path / "empty").mkdir()
    _executed(tmp_path / "b", "05.ipynb", "x\n")
    with pytest.raises(SystemExit):
        compare_outputs.main([str(tmp_path / "empty"), str(tmp_path / "b")])


def test_every_course_utils_name_a_benchmark_imports_exists():
    """The benchmarks import inside functions, so a moved name breaks only `make bench`
    (training_step imported encode_texts from training after it had moved)."""
    import ast
    import importlib
    from pathlib import Path

    missing = []
    for script in sorted(Path(compare_outputs.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_utils"):
                module = importlib.import_module(node.module)
                missing += [f"{script.name}: {node.module}.{alias.name}" for alias in node.names
                            if not hasattr(module, alias.name)]
    assert not missing, missing


def test_numbers_mode_accepts_a_reworded_line_that_keeps_its_numbers(tmp_path, capsys):
    _executed(tmp_path / "a", "05.ipynb", "[Correct] shift: kNN 0.627 -> 0.895.\n")
    _executed(tmp_path / "b", "05.ipynb", "✔ shift: kNN 0.627 -> 0.895\n")
    args = [str(tmp_path / "a"), str(tmp_path / "b")]
    assert compare_outputs.main(args) == 1
    assert compare_outputs.main(["--numbers", *args]) == 0
    _executed(tmp_path / "b", "05.ipynb", "✔ shift: kNN 0.627 -> 0.905\n")
    assert compare_outputs.main(["--numbers", *args]) == 1
    assert "+[cell 0] 0.627 0.905" in capsys.readouterr().out


def test_the_benchmark_page_gives_every_timing_its_matmul_figure():
    """make bench's page: each notebook's row and the training lines carry the matmul figure
    measured next to them, and the share of the matching precision's limit (issue 27)."""
    from benchmarks.run_all import render

    notebook = {"name": "05_finetune_for_sentiment.ipynb", "wall": (61.0, 64.0),
                "first_plot": (5.0, 5.5), "first_umap": (None, None), "warm": 0.4,
                "warm_cell": "cell 3", "rss": 1200.0, "matmul": (150.0, 170.0),
                "matmul_at_min": 171.0}
    runs = [{"train_s": 20.0, "s_per_step": 0.5, "matmul_gflops": 171.0},
            {"train_s": 22.0, "s_per_step": 0.55, "matmul_gflops": 150.0}]
    training = {"config": {"steps": 40, "batch_size": 16, "learning_rate": 2e-4, "margin": 0.5,
                           "distance": "euclidean", "max_seq_length": 64, "bf16": True},
                "runs": runs, "tokens_per_step": 900.0, "mean_padded_len": 18.0,
                "flops_per_step": 80e9, "sentences_per_step": 48}
    page = render({"cpu": "test CPU", "cores_available": 2, "torch_threads": 2,
                   "python": "3.11", "torch": "2.13", "os": "Linux"},
                  {"float32": 200.0, "bf16": 400.0}, [notebook], {}, training, 2, 60.0)
    assert "| 05_finetune_for_sentiment.ipynb | 61.0 / 64.0 | 171 (150 / 170) |" in page
    assert "float32 200 GFLOP/s, bfloat16 400 GFLOP/s" in page
    assert "Precision: **bf16**" in page
    assert "160 GFLOP/s = 40% of the measured bf16 matmul throughput" in page
    assert "float32 matmul 171 GFLOP/s just before the fastest run" in page
