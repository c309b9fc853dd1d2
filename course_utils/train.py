"""Fine-tune the course's model with triplet loss from the command line.

    python -m course_utils.train --output outputs/my_model
    python -m course_utils.train --data reviews.csv --text-col text --label-col sentiment \\
        --group-col topic --output outputs/my_model --max-steps 60

It trains the bundled all-MiniLM-L6-v2 on triplets built from ``--label-col``. With
``--group-col`` each negative comes from the anchor's own group and each positive from another
group (where one exists), so the group never helps and only the label separates them. It saves a
sentence-transformers model to ``--output`` that ``SentenceTransformer(path)`` loads offline,
and prints held-out numbers before and after. Without ``--data`` it uses the course dataset's
train split and evaluates on its test split; with ``--data`` it holds out a deterministic
stratified third of the CSV.

Several questions in one model (notebook 08): repeat ``--task NAME:LABEL_COL[:GROUP_COL]``,
e.g. ``--task sentiment:sentiment:topic --task topic:topic:sentiment``. Each task gets its own
triplets (built as above from its label and group) and its prompt, ``"NAME: "`` unless
``--prompt NAME=TEXT`` says otherwise; ``--no-prompts`` trains the tasks without prompts. The
prompts are saved with the model: ``model.encode(texts, prompt_name="sentiment")``.

It runs unchanged under ``torchrun --nproc_per_node=N -m course_utils.train ...`` (on CPU the
processes talk over gloo); only the first process prints the report and saves the model.
Bad arguments end with a one-paragraph message on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from course_utils.training import TrainingConfig

EXIT_BAD_ARGUMENTS = 2
#: The held-out report encodes at most this many training rows (the kNN / probe reference) and
#: test rows, a deterministic stratified sample: on a 50,000-row CSV encoding every row twice
#: took most of a 7-minute run (docs/training.md, "Large CSV files").
MAX_REPORT_TRAIN_ROWS = 4_000
MAX_REPORT_TEST_ROWS = 2_000


@contextlib.contextmanager
def phase(name: str, *, show: bool = True) -> Iterator[None]:
    """Print ``name ...`` before a long step and its duration after it (main process only)."""
    start = time.perf_counter()
    if show:
        print(f"{name} ...", flush=True)
    yield
    if show:
        print(f"  done in {time.perf_counter() - start:.1f} s", flush=True)


def report_sample(frame: pd.DataFrame, limit: int, by: list[str], seed: int) -> pd.DataFrame:
    """At most ``limit`` rows of ``frame``, stratified by the ``by`` columns, deterministic."""
    if len(frame) <= limit:
        return frame
    share = limit / len(frame)
    return (frame.groupby(by, group_keys=False, sort=True)
            .sample(frac=share, random_state=seed).reset_index(drop=True))


class UsageError(ValueError):
    """A problem with the command-line arguments or the data they point to."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number above 0, got {text!r}")
    return value


def _learning_rate(text: str) -> float:
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(
            f"a learning rate of {value} would destroy the model; try 5e-5 to 2e-4"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainingConfig()
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.train",
        description="Fine-tune the course's sentence-embedding model with triplet loss "
        "and save it.",
    )
    parser.add_argument("--data", type=Path, default=None,
                        help="CSV file with a text column and a label column "
                        "(default: the course dataset's train split)")
    parser.add_argument("--text-col", default="text", help="column with the texts (text)")
    parser.add_argument("--label-col", default="sentiment",
                        help="column with the label the model should learn (sentiment)")
    parser.add_argument("--group-col", default=None,
                        help="column to control for: negatives from the anchor's group, "
                        "positives from other groups (default: topic for the course dataset, "
                        "none with --data)")
    parser.add_argument("--output", type=Path, required=True,
                        help="new or empty folder for the trained model")
    parser.add_argument("--epochs", type=_positive_float, default=None,
                        help="passes over the triplets (used when --max-steps is not given)")
    parser.add_argument("--max-steps", type=_positive_int, default=None,
                        help=f"optimiser steps; wins over --epochs (default {defaults.max_steps})")
    parser.add_argument("--lr", type=_learning_rate, default=defaults.learning_rate,
                        help=f"learning rate (default {defaults.learning_rate:g})")
    parser.add_argument("--batch-size", type=_positive_int, default=defaults.batch_size,
                        help=f"triplets per step and process (default {defaults.batch_size})")
    parser.add_argument("--seed", type=_non_negative_int, default=0,
                        help="seed for triplets, data order and dropout (default 0)")
    parser.add_argument("--task", action="append", default=[],
                        metavar="NAME:LABEL_COL[:GROUP_COL]",
                        help="train several questions into one model; repeat it, e.g. --task "
                        "sentiment:sentiment:topic --task topic:topic:sentiment (replaces "
                        "--label-col and --group-col)")
    parser.add_argument("--prompt", action="append", default=[], metavar="NAME=TEXT",
                        help="the prompt of task NAME (default 'NAME: ')")
    parser.add_argument("--no-prompts", action="store_true",
                        help="train the tasks without prompts (plain multi-task training)")
    return parser


@dataclass
class Job:
    """Everything the run needs, validated."""

    train: pd.DataFrame
    test: pd.DataFrame
    text_col: str
    label_col: str
    group_col: str | None
    output: Path
    config: TrainingConfig
    source: str


def _validate_output(path: Path) -> Path:
    from course_utils.safe_output import (
        OutputFolderError,
        validate_not_committable,
        validate_writable,
    )

    try:
        return validate_writable(validate_not_committable(path))
    except OutputFolderError as error:
        raise UsageError(f"--output {error}") from None


def _load_user_csv(args: argparse.Namespace, label_cols: list[str] | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    from course_utils.data import (
        DataValidationError,
        read_csv,
        stratified_split,
        validate_dataframe,
    )

    try:
        frame = read_csv(args.data)
    except (FileNotFoundError, DataValidationError) as error:
        raise UsageError(f"--data: {error}") from None
    label_cols = label_cols or [args.label_col] + ([args.group_col] if args.group_col else [])
    try:
        validate_dataframe(frame, text_col=args.text_col, label_cols=label_cols)
        frame = frame.reset_index(drop=True)
        split = stratified_split(frame, by=label_cols, seed=args.seed, key_col=None)
    except DataValidationError as error:
        raise UsageError(f"--data {args.data}: {error}") from None
    train = frame[split == "train"].reset_index(drop=True)
    test = frame[split == "test"].reset_index(drop=True)
    for part, name in ((train, "training"), (test, "held-out")):
        if part[args.label_col].nunique() < 2:
            raise UsageError(
                f"--data {args.data}: after holding out a third for evaluation, the {name} "
                f"part has a single {args.label_col!r} class. Add more rows per class (at "
                "least 3 of each)."
            )
    return train, test


def prepare_job(args: argparse.Namespace) -> Job:
    """Check the arguments and load the data; raise :class:`UsageError` with a fix."""
    output = _validate_output(args.output)
    if args.data is None:
        from course_utils.data import load_course_data

        columns = ("text", "topic", "sentiment")
        for option, value in (("--text-col", args.text_col), ("--label-col", args.label_col),
                              ("--group-col", args.group_col)):
            if value is not None and value not in columns:
                raise UsageError(
                    f"{option} {value!r} is not a column of the course dataset (it has "
                    f"{list(columns)}). Pass --data PATH.csv to train on your own file."
                )
        if args.group_col is None and args.label_col == "sentiment":
            args.group_col = "topic"  # the course's recipe: only sentiment separates
        train, test = load_course_data("train"), load_course_data("test")
        source = "course dataset (train split; evaluated on its test split)"
    else:
        from course_utils.training import is_main_process

        with phase(f"reading and checking {args.data}", show=is_main_process()):
            train, test = _load_user_csv(args)
        source = f"{args.data} ({len(train)} rows to train, {len(test)} held out)"
    if args.group_col is not None and args.group_col == args.label_col:
        raise UsageError("--group-col must differ from --label-col (e.g. --group-col topic).")
    max_steps = args.max_steps
    if max_steps is None and args.epochs is None:
        max_steps = TrainingConfig().max_steps
    try:
        config = TrainingConfig(max_steps=max_steps, epochs=args.epochs,
                                learning_rate=args.lr, batch_size=args.batch_size,
                                seed=args.seed, snapshot_every=None, progress="bar")
    except ValueError as error:
        raise UsageError(str(error)) from None
    return Job(train, test, args.text_col, args.label_col, args.group_col, output, config,
               source)


def build_triplets(job: Job) -> pd.DataFrame:
    from course_utils.triplets import make_triplets

    if job.group_col:  # a group with one label has no same-group negative: say the CLI's fix
        labels_per_group = job.train.groupby(job.group_col)[job.label_col].nunique()
        single = sorted(map(str, labels_per_group.index[labels_per_group < 2]))
        if single:
            raise UsageError(
                f"Cannot build triplets from the training rows: {job.group_col!r} group(s) "
                f"{single[:5]} have a single {job.label_col!r} label, so their anchors have no "
                f"negative in their own group. Leave out --group-col {job.group_col} "
                "(negatives then come from any group), or drop those rows from the CSV.")
    try:
        return make_triplets(
            job.train, text_col=job.text_col, label_col=job.label_col, group_col=job.group_col,
            negatives="same_group" if job.group_col else "random",
            positives="other_group" if job.group_col else "any", seed=job.config.seed,
        )
    except ValueError as error:
        raise UsageError(f"Cannot build triplets from the training rows: {error}") from None


def run(job: Job) -> int:
    """Claim ``--output``, then train, save and report (on the main process only)."""
    from course_utils import training
    from course_utils.safe_output import OutputFolderError, claim

    if not training.is_main_process():
        return _train_save_report(job)
    try:
        with claim(job.output):
            return _train_save_report(job)
    except OutputFolderError as error:
        raise UsageError(f"--output {error}") from None


def _train_save_report(job: Job) -> int:
    from course_utils import evaluation, training
    from course_utils.models import load_model

    main = training.is_main_process()
    label_cols = [job.label_col] + ([job.group_col] if job.group_col else [])
    if main:
        print(f"data: {job.source}", flush=True)
    with phase(f"building triplets from {len(job.train):,} rows", show=main):
        triplets = build_triplets(job)
    report_train = report_sample(job.train, MAX_REPORT_TRAIN_ROWS, label_cols, job.config.seed)
    report_test = report_sample(job.test, MAX_REPORT_TEST_ROWS, label_cols, job.config.seed)
    sampled = (f" (a stratified sample of {len(report_train):,} + {len(report_test):,} rows)"
               if len(report_train) < len(job.train) or len(report_test) < len(job.test)
               else "")
    if main:
        negatives = (f"same-{job.group_col} negatives, other-{job.group_col} positives"
                     if job.group_col else "random negatives")
        length = (f"{job.config.max_steps} steps" if job.config.max_steps
                  else f"{job.config.epochs:g} epoch(s)")
        print(f"triplets: {len(triplets)} ({negatives}); {length} at lr "
              f"{job.config.learning_rate:g}, batch {job.config.batch_size}")
        with phase(f"held-out report before training{sampled}"):
            before = evaluation.embedding_report(load_model(), report_train, report_test,
                                                 text_col=job.text_col, label_cols=label_cols)
    result = training.train_triplets(triplets, config=job.config)
    if not main:
        return 0
    with phase(f"saving to {job.output}"):
        try:
            path = training.save_model(result.model, job.output)
        except FileExistsError as error:  # another process filled the folder meanwhile
            raise UsageError(f"--output {error}") from None
    with phase("held-out report after training"):
        after = evaluation.embedding_report(result.model, report_train, report_test,
                                            text_col=job.text_col, label_cols=label_cols,
                                            cache=False)
    print(result.summary())
    print("\nheld-out report (kNN accuracy, silhouette, linear probe):")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(evaluation.compare_reports(before, after).to_string())
    print(f"\nsaved to {path}; load it with SentenceTransformer({str(path)!r}) or "
          f"cu.models.load_model({str(path)!r})")
    return 0


@dataclass
class TaskJob:
    """A validated multi-task run: one triplet set (and prompt) per task."""

    train: pd.DataFrame
    test: pd.DataFrame
    text_col: str
    tasks: list  # of course_utils.multitask.TaskSpec
    prompts: dict[str, str]
    output: Path
    config: TrainingConfig
    source: str

    @property
    def label_cols(self) -> list[str]:
        """Every label and group column of the tasks, in order, once each."""
        columns = [col for task in self.tasks for col in (task.label_col, task.group_col) if col]
        return list(dict.fromkeys(columns))


def _parse_tasks(args: argparse.Namespace) -> tuple[list, dict[str, str]]:
    """The --task specs and the prompt of each task, or a UsageError naming the bad one."""
    from course_utils.multitask import TaskSpec

    if not args.task:
        raise UsageError("--prompt and --no-prompts need at least one --task "
                         "NAME:LABEL_COL[:GROUP_COL], e.g. --task topic:topic:sentiment.")
    if args.group_col is not None or args.label_col != build_parser().get_default("label_col"):
        raise UsageError("--task replaces --label-col and --group-col; give the columns in "
                         "each --task NAME:LABEL_COL[:GROUP_COL] instead.")
    try:
        tasks = [TaskSpec.parse(text) for text in args.task]
    except ValueError as error:
        raise UsageError(str(error)) from None
    names = [task.name for task in tasks]
    if len(set(names)) < len(names):
        raise UsageError(f"task names must differ, got {names}; e.g. --task "
                         "sentiment:sentiment:topic --task topic:topic:sentiment.")
    prompts = {} if args.no_prompts else {name: f"{name}: " for name in names}
    for text in args.prompt:
        name, equals, prompt = text.partition("=")
        if args.no_prompts:
            raise UsageError("--prompt and --no-prompts contradict each other; drop one.")
        if not equals or name not in names or not prompt.strip():
            raise UsageError(f"--prompt {text!r} must be NAME=TEXT with NAME one of the tasks "
                             f"{names}, e.g. --prompt \"{names[0]}=Represent the {names[0]}: \".")
        prompts[name] = prompt
    return tasks, prompts


def prepare_task_job(args: argparse.Namespace) -> TaskJob:
    """Check a multi-task command line (``--task ...``) and load the data."""
    output = _validate_output(args.output)
    tasks, prompts = _parse_tasks(args)
    columns = list(dict.fromkeys(c for t in tasks for c in (t.label_col, t.group_col) if c))
    if args.data is None:
        from course_utils.data import load_course_data

        train, test = load_course_data("train"), load_course_data("test")
        unknown = [col for col in [args.text_col, *columns] if col not in train.columns]
        if unknown:
            raise UsageError(f"{unknown} not a column of the course dataset (it has ['text', "
                             "'topic', 'sentiment']). Pass --data PATH.csv to use your own file.")
        source = "course dataset (train split; evaluated on its test split)"
    else:
        first = argparse.Namespace(**{**vars(args), "label_col": tasks[0].label_col})
        train, test = _load_user_csv(first, columns)
        for task in tasks[1:]:
            if min(train[task.label_col].nunique(), test[task.label_col].nunique()) < 2:
                raise UsageError(
                    f"--data {args.data}: after holding out a third for evaluation, a part has "
                    f"a single {task.label_col!r} class (task {task.name!r}). Add more rows per "
                    "class (at least 3 of each).")
        source = f"{args.data} ({len(train)} rows to train, {len(test)} held out)"
    max_steps = args.max_steps
    if max_steps is None and args.epochs is None:
        max_steps = TrainingConfig().max_steps
    try:
        config = TrainingConfig(max_steps=max_steps, epochs=args.epochs, learning_rate=args.lr,
                                batch_size=args.batch_size, seed=args.seed,
                                snapshot_every=None, progress="bar")
    except ValueError as error:
        raise UsageError(str(error)) from None
    return TaskJob(train, test, args.text_col, tasks, prompts, output, config, source)


def run_tasks(job: TaskJob) -> int:
    """Train one model on every task's triplets; report per prompt; save (main process)."""
    from course_utils import training
    from course_utils.evaluation import compare_reports, embedding_report
    from course_utils.models import load_model
    from course_utils.triplets import make_triplets

    triplets = {}
    for task in job.tasks:
        try:
            triplets[task.name] = make_triplets(job.train, text_col=job.text_col,
                                                seed=job.config.seed, **task.recipe())
        except ValueError as error:
            raise UsageError(f"Cannot build triplets for task {task.name!r}: {error}") from None
    main = training.is_main_process()
    prompts = {task.name: job.prompts.get(task.name) for task in job.tasks}
    if main:
        print(f"data: {job.source}")
        for task in job.tasks:
            how = (f"same-{task.group_col} negatives, other-{task.group_col} positives"
                   if task.group_col else "random negatives")
            print(f"task {task.name}: {len(triplets[task.name])} triplets by {task.label_col} "
                  f"({how}); prompt {prompts[task.name]!r}")
        print(f"{job.config.max_steps or job.config.epochs} "
              f"{'steps' if job.config.max_steps else 'epoch(s)'} at lr "
              f"{job.config.learning_rate:g}, batch {job.config.batch_size}, tasks in turn")
        base = load_model()
        before = {name: embedding_report(base, job.train, job.test, text_col=job.text_col,
                                         label_cols=job.label_cols, prompt=prompt)
                  for name, prompt in prompts.items()}
    result = training.train_triplets(triplets, config=job.config, prompts=job.prompts or None)
    if not main:
        return 0
    path = training.save_model(result.model, job.output)
    print(result.summary())
    for name, prompt in prompts.items():
        after = embedding_report(result.model, job.train, job.test, text_col=job.text_col,
                                 label_cols=job.label_cols, prompt=prompt, cache=False)
        print(f"\nheld-out report, texts encoded with the prompt {prompt!r} (task {name}):")
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            print(compare_reports(before[name], after).to_string())
    example = next((name for name, prompt in prompts.items() if prompt), None)
    usage = f", then model.encode(texts, prompt_name={example!r})" if example else ""
    print(f"\nsaved to {path}; load it with SentenceTransformer({str(path)!r}){usage}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with code 2 and a usage message on its own errors
    from course_utils.notebook_setup import apply_quiet_offline_env, quiet_logging

    apply_quiet_offline_env()
    quiet_logging()
    try:
        if args.task or args.prompt or args.no_prompts:  # several questions (notebook 08)
            return run_tasks(prepare_task_job(args))
        job = prepare_job(args)
        return run(job)
    except UsageError as error:
        from course_utils.training import is_main_process

        if is_main_process():  # under torchrun every process finds the same problem
            print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS


if __name__ == "__main__":
    sys.exit(main())
