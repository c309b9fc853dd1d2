"""The hover scatter of notebooks 02, 05 and 08, driven without a browser.

The browser sets a view's ``hovering`` (the row under the mouse, None when it leaves) and
``selection`` (the lassoed rows); the tests set them the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.plots.scatter import FIXED_COLOURS
from course_utils.widgets import hover_scatter
from course_utils.widgets.hover import HINT, TOOLTIP_LINES

TEXTS = ["The soup was cold.", "Lovely pasta!", "The room smelled.", "Great view from the bed.",
         "Battery died fast.", "Crisp, bright screen."]
LABELS = pd.DataFrame({"topic": ["restaurants", "restaurants", "hotels", "hotels",
                                 "electronics", "electronics"],
                       "sentiment": ["negative", "positive"] * 3})


def layouts():
    before = np.random.default_rng(0).normal(size=(len(TEXTS), 2))
    return {"before": before, "after": before[::-1] * 2.0}


def test_hovering_a_point_shows_its_sentence_and_labels_in_every_view():
    box = hover_scatter(layouts(), TEXTS, LABELS)
    assert box.state == {"hovered": None, "selected": []}
    assert HINT.split(".")[0] in box.readout.value
    box.views[0].widget.hovering = 2  # the mouse is over sentence 2 in "before"
    assert box.state["hovered"] == 2
    assert box.views[1].widget.hovering == 2  # "after" marks the same sentence
    assert box.point(2) == {"sentence": "The room smelled.", "topic": "hotels",
                            "sentiment": "negative"}
    for shown in ("The room smelled.", "hotels", "negative"):
        assert shown in box.readout.value
    box.views[0].widget.hovering = None  # the mouse left
    assert box.state["hovered"] is None and HINT.split(".")[0] in box.readout.value


def test_a_selection_in_one_view_is_marked_in_the_other_and_counted():
    box = hover_scatter(layouts(), TEXTS, LABELS)
    box.views[1].widget.selection = [0, 2, 4]  # lassoed in "after"
    assert box.state["selected"] == [0, 2, 4]
    assert list(box.views[0].widget.selection) == [0, 2, 4]
    assert "3 selected" in box.readout.value and "3 negative" in box.readout.value
    box.views[1].widget.selection = []
    assert box.state["selected"] == [] and "selected" not in box.readout.value


def test_tooltip_shows_every_label_and_colours_follow_the_course_palette():
    from matplotlib.colors import to_rgba

    box = hover_scatter(layouts(), TEXTS, {"topic": LABELS["topic"],
                                           "sentiment": LABELS["sentiment"]},
                        color_by=["topic", "sentiment"])
    first, second = (view.widget for view in box.views)
    assert first.tooltip_enable and first.tooltip_preview == "sentence"
    assert first.tooltip_properties == ["topic", "sentiment"]
    assert first.tooltip_preview_text_lines == TOOLTIP_LINES
    # the same colour per label as the static figures (cu.plots.label_colours)
    for widget, names in ((first, ["hotels", "restaurants"]), (second, ["negative", "positive"])):
        for name in names:
            shown = widget.color[widget.color_domain[name]]
            assert shown == pytest.approx(list(to_rgba(FIXED_COLOURS[name]))), name
        # the legend (jupyter-scatter's, or the key in the title) names each colour correctly
        legend = widget.legend_encoding["color"]["values"]
        assert {label for label, _, _ in legend} == set(widget.color_domain)
        for label, colour, _ in legend:
            assert list(colour) == pytest.approx(list(to_rgba(FIXED_COLOURS[label]))), label
    assert box.children[0].layout.grid_template_rows == "auto"  # room for the two-line titles
    titles = [child.children[0].value for child in box.children[0].children]
    for title, names in ((titles[0], ["hotels", "electronics"]), (titles[1], ["negative"])):
        for name in names:
            assert f'color:{FIXED_COLOURS[name]}">&#9679;</span>&nbsp;{name}' in title, title


def test_a_single_layout_gives_one_view():
    xy = layouts()["before"]
    box = hover_scatter(xy, TEXTS, LABELS, color_by="sentiment")
    assert len(box.views) == 1
    box.views[0].widget.hovering = 5
    assert "Crisp, bright screen." in box.readout.value


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="same sentences"):
        hover_scatter({"a": np.zeros((6, 2)), "b": np.zeros((5, 2))}, TEXTS, LABELS)
    with pytest.raises(ValueError, match="texts has 5"):
        hover_scatter(layouts(), TEXTS[:5], LABELS)
    with pytest.raises(ValueError, match="color_by"):
        hover_scatter(layouts(), TEXTS, LABELS, color_by="length")
    with pytest.raises(ValueError, match="one per view"):
        hover_scatter(layouts(), TEXTS, LABELS, color_by=["topic"])
    with pytest.raises(ValueError, match="reserved"):
        hover_scatter(layouts(), TEXTS, {"x": LABELS["topic"]})
    with pytest.raises(ValueError, match="empty"):
        hover_scatter({}, TEXTS, LABELS)


@pytest.mark.parametrize(("texts", "error", "message"), [
    ("The soup was cold.", TypeError, "must be a list of sentences, got a single string"),
    (TEXTS[:5] + [float("nan")], ValueError, r"1 missing entries \(None or NaN\), e\.g\. at rows "
                                             r"\[5\]; drop those rows first"),
    (TEXTS[:5] + [None], ValueError, r"missing entries"),
])
def test_texts_that_are_not_sentences_are_refused(texts, error, message):
    with pytest.raises(error, match=message):
        hover_scatter(layouts(), texts, LABELS)


def test_a_row_the_views_do_not_have_is_ignored_or_named():
    box = hover_scatter(layouts(), TEXTS, LABELS)
    box.views[0].widget.hovering = 2
    box.views[0].widget.selection = np.array([1, 3])
    box.views[0].widget.hovering = -1  # jupyter-scatter's "nothing hovered"
    assert box.state["hovered"] is None
    follow = box.views[0].widget._trait_notifiers["hovering"]["change"][-1]
    follow({"name": "hovering", "new": 99})  # a stale row from another data set
    follow({"name": "selection", "new": [1, 99, 3]})
    assert box.state == {"hovered": None, "selected": [1, 3]}
    with pytest.raises(IndexError, match=r"row must be a point number from 0 to 5, got 6"):
        box.point(6)
