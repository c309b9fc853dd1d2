"""`cu.<Tab>` offers the package's contents in a fresh kernel, although they load lazily.

The package and its ``plots`` / ``widgets`` sub-packages import their modules on first use
(module ``__getattr__``, so ``import course_utils`` stays light); their ``__dir__`` lists those
names, which is what IPython's completer (the one JupyterLab's Tab uses) asks for.
"""

from __future__ import annotations

import pytest

import course_utils as cu


@pytest.mark.parametrize(
    ("typed", "offered"),
    [("cu.da", "data"), ("cu.tr", "training"), ("cu.plots.proj", "project_2d"),
     ("cu.widgets.mar", "margin_explorer"), ("cu.se", "setup")],
)
def test_tab_completion_offers_lazy_names(typed, offered):
    from IPython.core.completer import IPCompleter, provisionalcompleter

    completer = IPCompleter(namespace={"cu": cu}, global_namespace={})
    with provisionalcompleter():
        texts = [c.text for c in completer.completions(typed, len(typed))]
    assert offered in texts, f"{typed}<Tab> offered {texts}"


def test_every_listed_name_resolves():
    for package in (cu, cu.plots, cu.widgets):
        for name in dir(package):
            getattr(package, name)  # AttributeError if Tab offered a name that is not there
