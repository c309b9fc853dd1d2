"""The shared input checks: each returns the cleaned value or says what was wrong."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.validation import (
    validate_embeddings,
    validate_non_empty_dict,
    validate_positive_number,
    validate_whole_number,
)


def test_whole_numbers():
    assert validate_whole_number(np.int64(3), "k") == 3
    assert validate_whole_number(0, "seed", minimum=0) == 0
    assert validate_whole_number(None, "threads", allow_none=True) is None
    for bad in (0, 2.5, True, "3", None):
        with pytest.raises(ValueError, match="k must be a positive whole number"):
            validate_whole_number(bad, "k")
    with pytest.raises(ValueError, match=r"seed must be a whole number >= 0, got -1"):
        validate_whole_number(-1, "seed", minimum=0)


def test_positive_numbers():
    assert validate_positive_number(2, "margin") == 2.0
    for bad, says in ((True, "a number"), ("1", "a number"), (0, "above 0"),
                      (float("nan"), "finite"), (3.0, "at most 1.0")):
        with pytest.raises(ValueError, match=says):
            validate_positive_number(bad, "rate", upper=1.0)


def test_embeddings_and_layouts():
    array = validate_embeddings([[1, 2], [3, 4]], dtype=np.float64)
    assert array.dtype == np.float64 and array.shape == (2, 2)
    with pytest.raises(ValueError, match=r"one row of 2-D coordinates per point"):
        validate_embeddings(np.ones((3, 3)), name="xy", columns=2)
    with pytest.raises(TypeError, match=r"xy is None; pass the layout"):
        validate_embeddings(None, name="xy", source="the layout")
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        validate_embeddings([[1.0], [np.nan]])
    with pytest.raises(ValueError, match="match one to one"):
        validate_embeddings(np.ones((3, 2)), n_rows=4)


def test_non_empty_dicts():
    assert validate_non_empty_dict({"a": 1}, "sets", "{name: x}", "{'a': 1}") == {"a": 1}
    for bad in ({}, [("a", 1)], None):
        with pytest.raises(TypeError, match=r"sets must be a non-empty dict \{name: x\}"):
            validate_non_empty_dict(bad, "sets", "{name: x}", "{'a': 1}")
