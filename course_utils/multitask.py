"""One model, several questions: multi-task triplet training with a prompt per task (notebook 08).

Holds the notebook's recipes and acceptance thresholds, :func:`prompt_report` (kNN accuracy and
silhouette per label under each prompt), and :class:`TaskSpec` / :func:`parse_tasks` for the
training command's ``--task`` and ``--prompt`` arguments. Measurements: docs/training.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from course_utils.evaluation import embedding_report
from course_utils.training_presets import validate_task_name

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

#: Notebook 08, section 2 (no prompts): the two sets must agree, so the sentiment positives
#: stay in the anchor's topic - sentiment *inside* topic - and topic negatives come from any
#: other topic.
NESTED_SENTIMENT_RECIPE = {"label_col": "sentiment", "group_col": "topic",
                           "negatives": "same_group", "positives": "same_group"}
TOPIC_ONLY_RECIPE = {"label_col": "topic", "group_col": None, "negatives": "random",
                     "positives": "any"}

#: Notebook 08, section 3 (a prompt per task): only topic separates positive from negative
#: (every negative has the anchor's sentiment), and the positive's sentiment is left to chance.
#: Not the exact mirror of notebook 05's ``training_presets.SENTIMENT_RECIPE``: with
#: ``positives="other_group"`` sentiment points the wrong way in every topic triplet, and asked
#: "topic: " the model put opposite opinions nearest (sentiment kNN 0.468 and 0.432, below
#: chance 0.5, seeds 0 and 1). With ``"any"``: 0.509 / 0.591 / 0.555 (seeds 0-2, mean 0.552),
#: topic kNN under "topic: " 0.923 / 0.927 / 0.927, sentiment kNN under "sentiment: "
#: 0.923 / 0.909 / 0.909 (40 steps, bf16, make_triplets and training seeded alike).
TOPIC_RECIPE = {"label_col": "topic", "group_col": "sentiment", "negatives": "same_group",
                "positives": "any"}

#: Notebook 08's acceptance thresholds on the course test split (kNN accuracy, k=5); section 2
#: trains 60 steps, section 3 notebook 05's 40 (measured values and margins: docs/training.md).
MIN_KNN = {
    "multi-task topic": 0.85,
    "multi-task sentiment": 0.80,
    "sentiment prompt: sentiment": 0.88,
    "topic prompt: topic": 0.90,
}

def prompt_report(model: SentenceTransformer, train_frame: pd.DataFrame,
                  test_frame: pd.DataFrame, prompts: Mapping[str, str | None], *,
                  label_cols: Sequence[str] = ("topic", "sentiment"),
                  text_col: str = "text") -> pd.DataFrame:
    """kNN accuracy and silhouette of every label, with the texts encoded under each prompt.

    ``prompts`` maps a row name to a prompt (``None``: no prompt). Returns one row per prompt,
    columns ``(metric, label)``, on the held-out split as in notebook 05.
    """
    rows = {}
    for name, prompt in prompts.items():
        report = embedding_report(model, train_frame, test_frame, text_col=text_col,
                                  label_cols=label_cols, prompt=prompt)
        rows[name] = {(metric, label): float(report.loc[label, metric])
                      for metric in ("knn_accuracy", "silhouette") for label in label_cols}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    table.index.name = "prompt"
    return table.round(3)


def nearest(model: SentenceTransformer, query: str, frame: pd.DataFrame, *,
            prompt: str | None = None, k: int = 5, text_col: str = "text") -> pd.DataFrame:
    """The ``k`` rows of ``frame`` most similar to ``query`` (cosine), both encoded with
    ``prompt``; the rows of ``frame`` with a ``similarity`` column, most similar first."""
    from course_utils.embedding import encode

    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"query must be a sentence, got {query!r}.")
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= len(frame):
        raise ValueError(f"k must be a whole number from 1 to {len(frame)}, got {k!r}.")
    pool = encode(frame[text_col].tolist(), model, prompt=prompt)
    similarity = pool @ encode([query], model, prompt=prompt)[0]
    order = similarity.argsort(kind="stable")[::-1][:k]
    return frame.iloc[order].assign(similarity=similarity[order].round(3))


@dataclass(frozen=True)
class TaskSpec:
    """One question for the command line: ``NAME:LABEL_COL[:GROUP_COL]``. With a group column,
    negatives share the anchor's group and positives come from another (notebook 05's recipe)."""

    name: str
    label_col: str
    group_col: str | None = None

    @classmethod
    def parse(cls, text: str) -> TaskSpec:
        """``"sentiment:sentiment:topic"`` -> TaskSpec; a ValueError says what to write."""
        parts = text.split(":")
        example = "e.g. --task sentiment:sentiment:topic (NAME:LABEL_COL[:GROUP_COL])"
        if len(parts) not in (2, 3) or not all(part.strip() for part in parts):
            raise ValueError(f"--task {text!r} is not NAME:LABEL_COL[:GROUP_COL]; {example}.")
        name, label_col, *rest = (part.strip() for part in parts)
        try:
            validate_task_name(name)
        except ValueError as error:
            raise ValueError(f"--task {text!r}: {error}") from None
        group_col = rest[0] if rest else None
        if group_col == label_col:
            raise ValueError(
                f"--task {text!r}: the group column {group_col!r} is the label column too; the "
                "two must differ (the group is a second column to control for), or leave the "
                f"group out: --task {name}:{label_col}.")
        return cls(name, label_col, group_col)

    def recipe(self) -> dict[str, Any]:
        """Keyword arguments for ``cu.triplets.make_triplets``."""
        return {"label_col": self.label_col, "group_col": self.group_col,
                "negatives": "same_group" if self.group_col else "random",
                "positives": "other_group" if self.group_col else "any"}


def parse_tasks(task_texts: Sequence[str], prompt_texts: Sequence[str] = (), *,
                no_prompts: bool = False) -> tuple[list[TaskSpec], dict[str, str]]:
    """The command line's ``--task`` specs and each task's prompt (``"NAME: "`` unless a
    ``--prompt NAME=TEXT`` says otherwise; none with ``--no-prompts``); a ValueError says
    which argument is wrong and what to write."""
    if not task_texts:
        raise ValueError("--prompt and --no-prompts need at least one --task "
                         "NAME:LABEL_COL[:GROUP_COL], e.g. --task topic:topic:sentiment.")
    tasks = [TaskSpec.parse(text) for text in task_texts]
    names = [task.name for task in tasks]
    if len(set(names)) < len(names):
        raise ValueError(f"task names must differ, got {names}; e.g. --task "
                         "sentiment:sentiment:topic --task topic:topic:sentiment.")
    prompts = {} if no_prompts else {name: f"{name}: " for name in names}
    for text in prompt_texts:
        name, equals, prompt = text.partition("=")
        if no_prompts:
            raise ValueError("--prompt and --no-prompts contradict each other; drop one.")
        if not equals or name not in names or not prompt.strip():
            raise ValueError(f"--prompt {text!r} must be NAME=TEXT with NAME one of the tasks "
                             f"{names}, e.g. --prompt \"{names[0]}=Represent the {names[0]}: \".")
        prompts[name] = prompt
    return tasks, prompts


def validate_task_prompts(prompts: Mapping[str, str | None], tokenizer: object,
                          max_seq_length: int) -> None:
    """Check every task's prompt against the tokens the model reads in training
    (``cu.embedding.validate_prompt_length``): a ValueError names the ``--prompt`` that leaves
    too little of each text; one taking more than half only warns."""
    from course_utils.embedding import validate_prompt_length

    for name, prompt in prompts.items():
        validate_prompt_length(prompt, tokenizer, max_seq_length,
                               where=f"the prompt of task {name!r} (--prompt {name}=...)")
