"""Triplet building (random / same-group / hard negatives) and easy/semi-hard/hard grading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from course_utils.triplets import (
    MADE_TRIPLET_COLUMNS,
    classify_distances,
    classify_triplets,
    gather,
    make_triplets,
    pairwise_distance,
    triplet_distances,
)


@pytest.fixture()
def toy_frame() -> pd.DataFrame:
    """3 topics x 2 sentiments x 3 rows = 18 rows."""
    rows = [
        {"text": f"{topic} {sentiment} {i}", "topic": topic, "sentiment": sentiment}
        for topic in ("food", "films", "gyms")
        for sentiment in ("pos", "neg")
        for i in range(3)
    ]
    return pd.DataFrame(rows, index=np.arange(100, 118))  # a non-default index on purpose


def _column(frame: pd.DataFrame, col: str, positions) -> np.ndarray:
    return frame[col].to_numpy()[np.asarray(positions)]


def test_same_group_negatives_differ_only_in_the_label(toy_frame):
    triplets = make_triplets(toy_frame, group_col="topic", negatives="same_group", n_per_anchor=2)
    assert list(triplets.columns) == list(MADE_TRIPLET_COLUMNS)
    assert len(triplets) == 2 * len(toy_frame)
    a, p, n = triplets.anchor_index, triplets.positive_index, triplets.negative_index
    assert (a != p).all()
    assert (_column(toy_frame, "sentiment", a) == _column(toy_frame, "sentiment", p)).all()
    assert (_column(toy_frame, "sentiment", a) != _column(toy_frame, "sentiment", n)).all()
    assert (_column(toy_frame, "topic", a) == _column(toy_frame, "topic", n)).all()
    assert (triplets.group == _column(toy_frame, "topic", a)).all()
    assert (triplets.anchor == _column(toy_frame, "text", a)).all()
    assert (triplets.negative == _column(toy_frame, "text", n)).all()
    # Two triplets per anchor get two different negatives while there are enough (3 here).
    per_anchor = triplets.groupby("anchor_index").negative_index.nunique()
    assert (per_anchor == 2).all()


def test_random_negatives_reach_other_groups_and_are_reproducible(toy_frame):
    first = make_triplets(toy_frame, group_col="topic", negatives="random", n_per_anchor=3, seed=1)
    again = make_triplets(toy_frame, group_col="topic", negatives="random", n_per_anchor=3, seed=1)
    other = make_triplets(toy_frame, group_col="topic", negatives="random", n_per_anchor=3, seed=2)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    topics_a = _column(toy_frame, "topic", first.anchor_index)
    topics_n = _column(toy_frame, "topic", first.negative_index)
    assert (topics_a != topics_n).any()
    assert (_column(toy_frame, "sentiment", first.anchor_index)
            != _column(toy_frame, "sentiment", first.negative_index)).all()


def test_positive_strategies(toy_frame):
    other = make_triplets(toy_frame, group_col="topic", positives="other_group")
    assert (_column(toy_frame, "topic", other.anchor_index)
            != _column(toy_frame, "topic", other.positive_index)).all()
    same = make_triplets(toy_frame, group_col="topic", positives="same_group")
    assert (_column(toy_frame, "topic", same.anchor_index)
            == _column(toy_frame, "topic", same.positive_index)).all()
    no_groups = make_triplets(toy_frame, negatives="random")
    assert no_groups.group.isna().all()


def test_other_group_positive_falls_back_when_no_other_group_has_the_label():
    frame = pd.DataFrame({"text": list("abcde"), "sentiment": ["p", "p", "n", "n", "n"],
                          "topic": ["x", "x", "x", "y", "y"]})
    triplets = make_triplets(frame, group_col="topic", positives="other_group",
                             negatives="random")
    assert triplets.loc[0, "positive_index"] == 1  # only "p" rows are in topic x


def test_hard_negatives_are_the_closest_different_label_rows():
    frame = pd.DataFrame({"text": list("abcde"), "sentiment": ["p", "p", "n", "n", "n"]})
    embeddings = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.8, 0.2], [0.5, 0.5]])
    triplets = make_triplets(frame, negatives="hard", embeddings=embeddings, n_per_anchor=2)
    first = triplets[triplets.anchor_index == 0].negative_index.tolist()
    assert first == [3, 4]  # closest "n" rows to [1, 0] by cosine, in order
    with pytest.raises(ValueError, match="needs embeddings"):
        make_triplets(frame, negatives="hard")
    with pytest.raises(ValueError, match="rows but the frame has 5"):
        make_triplets(frame, negatives="hard", embeddings=embeddings[:3])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"label_col": "mood"}, "Missing column"),
        ({"negatives": "same_group"}, "needs group_col"),
        ({"group_col": "topic", "negatives": "nearest"}, "negatives must be one of"),
        ({"group_col": "topic", "positives": "all"}, "positives must be one of"),
        ({"group_col": "topic", "n_per_anchor": 0}, "n_per_anchor"),
        ({"group_col": "topic", "seed": -1}, "seed"),
    ],
)
def test_bad_requests_raise_actionable_errors(toy_frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_triplets(toy_frame, **kwargs)


def test_bad_data_raise_actionable_errors(toy_frame):
    with pytest.raises(TypeError, match="DataFrame"):
        make_triplets(toy_frame.to_dict(), group_col="topic")
    with pytest.raises(ValueError, match="single class"):
        make_triplets(toy_frame[toy_frame.sentiment == "pos"], group_col="topic")
    lonely = toy_frame.iloc[:4]  # food: 3 pos, 1 neg
    with pytest.raises(ValueError, match="single row"):
        make_triplets(lonely, group_col="topic")
    one_label_group = pd.concat([toy_frame, pd.DataFrame(
        {"text": ["x1", "x2"], "topic": ["solo", "solo"], "sentiment": ["pos", "pos"]})])
    with pytest.raises(ValueError, match=r"Group\(s\) \['solo'\]"):
        make_triplets(one_label_group, group_col="topic", negatives="same_group")
    with_gap = toy_frame.copy()
    with_gap.loc[100, "sentiment"] = None
    with pytest.raises(ValueError, match="missing value"):
        make_triplets(with_gap, group_col="topic")


def test_classify_follows_the_facenet_definitions():
    d_ap = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    d_an = np.array([0.5, 1.0, 1.2, 1.5, 2.0])
    assert classify_distances(d_ap, d_an, margin=0.5).tolist() == [
        "hard", "semi-hard", "semi-hard", "easy", "easy"]
    assert classify_distances(d_ap, d_an, margin=0.0).tolist() == [
        "hard", "easy", "easy", "easy", "easy"]


def test_classify_triplets_on_points():
    anchor = np.zeros((3, 2))
    positive = np.array([[1.0, 0.0]] * 3)
    negative = np.array([[0.5, 0.0], [1.2, 0.0], [3.0, 0.0]])
    grades = classify_triplets(anchor, positive, negative, margin=1.0)
    assert grades.tolist() == ["hard", "semi-hard", "easy"]
    grades_torch = classify_triplets(torch.zeros(3, 2), torch.tensor(positive),
                                     torch.tensor(negative), margin=1.0)
    assert grades_torch.tolist() == grades.tolist()
    with pytest.raises(ValueError, match="same shape"):
        classify_triplets(anchor, positive[:2], negative, margin=1.0)
    with pytest.raises(ValueError, match="margin"):
        classify_triplets(anchor, positive, negative, margin=-1.0)
    with pytest.raises(ValueError, match="distance must be one of"):
        classify_triplets(anchor, positive, negative, margin=1.0, distance="manhattan")
    with pytest.raises(ValueError, match="NaN"):
        classify_triplets(anchor, positive, np.full((3, 2), np.nan), margin=1.0)


def test_pairwise_distance_numpy_and_torch_agree():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    for distance in ("euclidean", "cosine"):
        numpy_result = pairwise_distance(x, y, distance)
        torch_result = pairwise_distance(torch.tensor(x), torch.tensor(y), distance)
        assert np.allclose(numpy_result, torch_result.numpy())
    assert np.allclose(pairwise_distance(x, x, "euclidean"), 0.0)
    assert np.allclose(pairwise_distance(x, -x, "cosine"), 2.0)
    d_ap, d_an = triplet_distances(x, y, x, distance="euclidean")
    assert np.allclose(d_an, 0.0) and np.allclose(d_ap, pairwise_distance(x, y))
    with pytest.raises(TypeError, match="both be torch tensors"):
        pairwise_distance(torch.tensor(x), y)
    with pytest.raises(ValueError, match="2-D"):
        pairwise_distance(x[0], y[0])


def test_real_course_data_same_topic_negatives():
    from course_utils.data import load_course_data

    frame = load_course_data("train")
    triplets = make_triplets(frame, group_col="topic", negatives="same_group")
    topics = frame.topic.to_numpy()
    assert len(triplets) == len(frame)
    assert (topics[triplets.anchor_index] == topics[triplets.negative_index]).all()


def test_gather_picks_each_role_and_refuses_foreign_rows():
    frame = pd.DataFrame({"text": [f"s{i}" for i in range(6)],
                          "sentiment": ["positive", "negative"] * 3,
                          "topic": ["a", "a", "b", "b", "c", "c"]})
    made = make_triplets(frame, label_col="sentiment", group_col="topic", seed=0)
    rows = np.arange(6) * 10
    anchor, positive, negative = gather(rows, made)
    assert list(anchor) == list(made["anchor_index"] * 10)
    assert list(negative) == list(made["negative_index"] * 10)
    labels = frame["sentiment"].to_numpy()
    a, p, n = gather(labels, made)
    assert (a == p).all() and (a != n).all()
    with pytest.raises(ValueError, match="rows has 3"):
        gather(rows[:3], made)
    with pytest.raises(ValueError, match="make_triplets returned"):
        gather(rows, made[["anchor", "positive", "negative"]])


def test_a_message_about_lonely_labels_lists_a_few_and_suspects_the_column():
    """A text column given as the label column: the message stays short and says so."""
    frame = pd.DataFrame({"text": [f"sentence {i}" for i in range(40)],
                          "label": [f"text {i}" for i in range(38)] + ["a", "a"]})
    with pytest.raises(ValueError, match="wrong column") as error:
        make_triplets(frame, label_col="label", negatives="random")
    assert "38 labels, e.g." in str(error.value) and len(str(error.value)) < 400
