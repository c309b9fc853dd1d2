"""The toy content (course_utils.toy): notebook 01's animal table and the maths on it, the
teaser sentences, and notebook 03's 2-D points in labelled pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils import toy

# --------------------------------------------------------------------------- the animal table


def test_animal_table_shape_and_a_fresh_copy_each_time():
    table = toy.animal_table()
    assert table.shape == (6, 8)
    assert list(table.index) == ["dog", "cat", "wolf", "lion", "horse", "eagle"]
    assert all(pd.api.types.is_numeric_dtype(table[c]) for c in table.columns)
    table.loc["dog", "barks"] = 0
    assert toy.animal_table().loc["dog", "barks"] == 1


def test_teaser_sentences_have_the_contrasts_the_prose_describes():
    teaser = toy.teaser_sentences()
    assert list(teaser.index) == ["A", "B", "C", "D"]
    a, b, c, d = (teaser.loc[k] for k in "ABCD")
    assert a.topic == b.topic and a.sentiment != b.sentiment
    assert len({a.topic, c.topic, d.topic}) == 3
    assert a.sentiment == c.sentiment == d.sentiment
    assert list(teaser["id"]) == list(toy.TEASER_IDS.values())


def test_triplet_table_and_nearest():
    table = toy.animal_table()
    frame = toy.triplet_table(table, toy.PET_TRIPLETS)
    assert list(frame["satisfied"]) == [False, True, True, True]
    assert toy.nearest(table, "dog") == ("wolf", pytest.approx(np.sqrt(3)))
    assert toy.nearest(table, "dog", toy.PET_WEIGHTS)[0] == "cat"


def test_learned_weights_satisfy_their_triplets_and_differ_by_purpose():
    table = toy.animal_table()
    pets = toy.learn_feature_weights(table, toy.PET_TRIPLETS)
    family = toy.learn_feature_weights(table, toy.FAMILY_TRIPLETS)
    assert (pets >= 0).all() and (family >= 0).all()
    assert toy.triplet_table(table, toy.PET_TRIPLETS, pets.to_dict())["satisfied"].all()
    assert toy.triplet_table(table, toy.FAMILY_TRIPLETS, family.to_dict())["satisfied"].all()
    assert pets["domesticated"] > 1 > family["domesticated"]
    assert family["retractable_claws"] > 1 > pets["retractable_claws"]
    # deterministic
    assert toy.learn_feature_weights(table, toy.PET_TRIPLETS).equals(pets)
    with pytest.raises(ValueError, match="at least one"):
        toy.learn_feature_weights(table, [])


def test_discriminating_features_and_weighted_distance():
    table = toy.animal_table()
    assert toy.discriminating_features(table, "dog", "horse") == ["barks", "size"]
    assert toy.discriminating_features(table, "dog", "dog") == []
    assert toy.weighted_distance(table, "dog", "horse") == pytest.approx(np.sqrt(1 + 9))
    assert toy.weighted_distance(table, "dog", "horse", {"barks": 4.0}) == pytest.approx(2.0)
    assert toy.weighted_distance(table, "dog", "horse", {}) == 0.0
    with pytest.raises(KeyError, match="not a row"):
        toy.discriminating_features(table, "dog", "unicorn")
    with pytest.raises(ValueError, match="unknown feature"):
        toy.weighted_distance(table, "dog", "cat", {"wings": 1.0})
    with pytest.raises(ValueError, match="not negative"):
        toy.weighted_distance(table, "dog", "cat", {"size": -1.0})


def test_distances_from_a_row_cover_every_other_row_in_table_order():
    table = toy.animal_table()
    distances = toy.distances_from(table, "dog", toy.PET_WEIGHTS)
    assert list(distances) == ["cat", "wolf", "lion", "horse", "eagle"]
    assert distances["cat"] == pytest.approx(1.0)  # same domestication, one size apart
    assert toy.nearest(table, "dog", toy.PET_WEIGHTS) == ("cat", distances["cat"])


def test_feature_tables_and_weights_that_cannot_be_used_are_explained():
    with pytest.raises(TypeError, match="DataFrame"):
        toy.validate_feature_table([[1, 2]])
    with pytest.raises(ValueError, match="at least 2 rows"):
        toy.validate_feature_table(pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="unique"):
        toy.validate_feature_table(pd.DataFrame({"a": [1, 2]}, index=["x", "x"]))
    table = toy.animal_table()
    assert toy.validate_feature_weights(table, None).tolist() == [1.0] * 8
    assert toy.validate_feature_weights(table, {"size": 2.0}).tolist() == [0.0] * 7 + [2.0]
    with pytest.raises(ValueError, match="finite"):
        toy.validate_feature_weights(table, {"size": float("nan")})


# --------------------------------------------------------------------------- 2-D toy pairs


def test_toy_pairs_label_every_pair_once():
    pairs = toy.make_toy_pairs(n_groups=3, n_per_group=3, seed=0)
    assert pairs.points.shape == (9, 2) and len(pairs.pairs) == 36
    assert int(pairs.similar.sum()) == 9  # 3 groups x C(3, 2)
    same = pairs.groups[pairs.pairs[:, 0]] == pairs.groups[pairs.pairs[:, 1]]
    assert (same == (pairs.similar == 1)).all()
    assert np.array_equal(toy.make_toy_pairs(seed=0).points, pairs.points)
    distances = toy.pair_distances(pairs.points, pairs.pairs)
    assert distances.shape == (36,) and (distances > 0).all()
    with pytest.raises(ValueError, match="n_groups"):
        toy.make_toy_pairs(n_groups=1)


def test_toy_points_and_pairs_that_cannot_be_used_are_explained():
    with pytest.raises(ValueError, match=f"at most {toy.MAX_TOY_GROUPS}"):
        toy.make_toy_pairs(n_groups=toy.MAX_TOY_GROUPS + 1)
    with pytest.raises(ValueError, match="spread"):
        toy.make_toy_pairs(spread=0)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        toy.pair_distances(np.ones((3, 3)), [[0, 1]])
    with pytest.raises(ValueError, match="integer array"):
        toy.pair_distances(np.ones((3, 2)), [[0.0, 1.0]])
    with pytest.raises(ValueError, match="indices outside"):
        toy.pair_distances(np.ones((3, 2)), [[0, 3]])
    with pytest.raises(ValueError, match="one 0/1 label per pair"):
        toy.validate_similar([1, 0], 3)


def test_the_figures_have_a_style_for_every_group_the_data_allows():
    from course_utils.plots.toy import _GROUP_STYLES

    assert len(_GROUP_STYLES) >= toy.MAX_TOY_GROUPS
