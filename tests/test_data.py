"""The course dataset and the schema validation."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from course_utils import data

STOCK_WORDS = {
    "great", "terrible", "love", "loved", "hate", "hated", "good", "bad", "amazing", "awful",
    "excellent", "horrible", "best", "worst", "perfect", "fantastic", "wonderful", "poor",
    "nice", "disappointing", "disappointed", "enjoy", "enjoyed", "recommend",
}


@pytest.fixture(scope="module")
def course():
    return data.load_course_data()


def test_course_dataset_has_the_promised_shape_and_balance(course):
    assert list(course.columns) == list(data.COURSE_COLUMNS)
    assert len(course) >= 600
    cells = course.groupby(["topic", "sentiment"]).size()
    assert set(course["topic"]) == set(data.TOPICS)
    assert set(course["sentiment"]) == set(data.SENTIMENTS)
    assert len(cells) == 10 and cells.min() >= 60 and cells.min() == cells.max()
    test_cells = course[course["split"] == "test"].groupby(["topic", "sentiment"]).size()
    assert test_cells.min() == test_cells.max() > 0, "test split must be stratified"
    assert course["id"].is_unique and course["text"].is_unique


def test_sentences_are_review_length_and_a_quarter_avoid_stock_words(course):
    words = course["text"].str.split().str.len()
    assert words.between(8, 30).all(), course.loc[~words.between(8, 30), "text"].tolist()
    tokens = course["text"].str.lower().map(lambda t: set(re.findall(r"[a-z']+", t)))
    without = tokens.map(lambda ws: not (ws & STOCK_WORDS))
    per_cell = without.groupby([course["topic"], course["sentiment"]]).mean()
    assert per_cell.min() >= 0.25, per_cell


def test_splits_load_separately(course):
    train, test = data.load_course_data("train"), data.load_course_data("test")
    assert len(train) + len(test) == len(course)
    assert set(train["split"]) == {"train"} and set(test["split"]) == {"test"}
    assert not set(train["id"]) & set(test["id"])


def test_unknown_split_name_is_refused():
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_course_data("validation")


def test_stratified_split_is_deterministic_and_order_free(course):
    frame = course[["text", "topic", "sentiment"]]
    first = data.stratified_split(frame, ["topic", "sentiment"], seed=1)
    shuffled = frame.sample(frac=1.0, random_state=0)
    second = data.stratified_split(shuffled, ["topic", "sentiment"], seed=1)
    assert first.equals(second.loc[first.index])
    share = (first == "test").groupby([frame["topic"], frame["sentiment"]]).mean()
    assert share.between(0.30, 0.37).all()
    assert not first.equals(data.stratified_split(frame, ["topic", "sentiment"], seed=2))


def _frame(**overrides):
    base = {"text": ["a b c", "d e f", "g h i", "j k l"],
            "topic": ["x", "x", "y", "y"], "sentiment": ["positive", "negative"] * 2}
    base.update(overrides)
    return pd.DataFrame(base)


def test_a_valid_frame_passes_unchanged():
    frame = _frame()
    assert data.validate_dataframe(frame) is frame


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_frame().drop(columns="topic"), r"Missing column\(s\) \['topic'\]"),
        (_frame(text=["a", "", "c", "d"]), "empty 'text'"),
        (_frame(text=["a", "   ", "c", "d"]), "empty 'text'"),
        (_frame(text=["a", None, "c", "d"]), "empty 'text'"),
        (_frame(sentiment=["positive"] * 4), "only 1 class"),
        (_frame(text=["same", "same", "c", "d"]), "duplicate text"),
        (_frame(topic=["x", None, "y", "y"]), "missing label"),
        (pd.DataFrame(columns=["text", "topic", "sentiment"]), "no rows"),
    ],
)
def test_schema_errors_say_what_is_wrong(frame, message):
    with pytest.raises(data.DataValidationError, match=message):
        data.validate_dataframe(frame)


def test_unknown_labels_are_named():
    frame = _frame(sentiment=["positive", "negative", "positve", "negative"])
    with pytest.raises(data.DataValidationError, match=r"unknown label\(s\) \['positve'\]"):
        data.validate_dataframe(frame, allowed_labels={"sentiment": data.SENTIMENTS})


def test_not_a_dataframe_is_refused():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        data.validate_dataframe([{"text": "hi"}])


def test_read_csv_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="No file at"):
        data.read_csv(tmp_path / "nope.csv")


def test_read_csv_malformed_and_empty_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,topic\na,b\nc,d,e,f\n")  # a row with too many fields
    with pytest.raises(data.DataValidationError, match="could not be read"):
        data.read_csv(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(data.DataValidationError, match="is empty"):
        data.read_csv(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("text,topic,sentiment\n")
    with pytest.raises(data.DataValidationError, match="no data rows"):
        data.read_csv(header_only)
    with pytest.raises(data.DataValidationError, match="is a folder"):
        data.read_csv(tmp_path)


def test_missing_course_dataset_says_how_to_restore(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ASSETS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="git checkout -- assets/data"):
        data.load_course_data()
