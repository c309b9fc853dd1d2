"""Fine-tune the course's model with triplet loss from the command line (docs/training.md).

    python -m course_utils.cli.train --data reviews.csv --text-col text --label-col sentiment \
        --group-col topic --output outputs/my_model --max-steps 60

Triplets come from ``--label-col``; with ``--group-col`` negatives share the anchor's group and
positives come from another, so only the label separates them. Without ``--data``: the course
dataset (train split; evaluated on its test split); with it, a stratified third is held out.
Several questions in one model (notebook 08): ``--task NAME:LABEL_COL[:GROUP_COL]`` repeated,
each task with its prompt (``"NAME: "``, ``--prompt NAME=TEXT``, or ``--no-prompts``). Runs
unchanged under ``torchrun --nproc_per_node=N``; only the first process prints and saves. Bad
arguments end with one paragraph on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from course_utils.training_presets import TrainingConfig

EXIT_BAD_ARGUMENTS = 2
#: Trained, but the model could not be saved at --output (it is kept elsewhere, see stderr).
EXIT_NOT_SAVED = 1
#: The course dataset's columns (used when --data is not given).
COURSE_COLUMNS = ("text", "topic", "sentiment")
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


def is_main_process() -> bool:
    """True in the process that prints and saves (rank 0 under ``torchrun``, or the only one)."""
    return int(os.environ.get("RANK", "0")) == 0


class UsageError(ValueError):
    """A problem with the command-line arguments or the data they point to."""


def _whole_number(minimum: int):
    """An argparse type: a whole number >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {value}")
        return value
    return parse


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
            f"a learning rate of {value} would destroy the model; try 5e-5 to 2e-4")
    return value


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainingConfig()
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.cli.train",
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
    parser.add_argument("--max-steps", type=_whole_number(1), default=None,
                        help=f"optimiser steps; wins over --epochs (default {defaults.max_steps})")
    parser.add_argument("--lr", type=_learning_rate, default=defaults.learning_rate,
                        help=f"learning rate (default {defaults.learning_rate:g})")
    parser.add_argument("--batch-size", type=_whole_number(1), default=defaults.batch_size,
                        help=f"triplets per step and process (default {defaults.batch_size})")
    parser.add_argument("--seed", type=_whole_number(0), default=0,
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
    """Everything the run needs, validated. Without ``--task``: one task, named after its label,
    no prompt, trained as one DataFrame; with it (``multi``): a named set and prompt per task."""

    train: pd.DataFrame
    test: pd.DataFrame
    text_col: str
    tasks: list  # of course_utils.multitask.TaskSpec
    prompts: dict[str, str]
    output: Path
    config: TrainingConfig
    source: str
    multi: bool = False


def _label_columns(tasks: list) -> list[str]:
    """Every label and group column of the tasks, in order, once each."""
    return list(dict.fromkeys(c for task in tasks for c in (task.label_col, task.group_col) if c))


def _validate_output(path: Path) -> Path:
    """``--output`` with symlinks followed, once it is writable and has room for the model."""
    from course_utils.safe_output import (
        OutputFolderError,
        validate_not_committable,
        validate_writable,
    )

    try:
        return validate_writable(validate_not_committable(path), need_bytes=_model_bytes())
    except OutputFolderError as error:
        raise UsageError(f"--output {error}") from None


def _model_bytes() -> int:
    """What the trained model will take on disk: the files of the course's model (its
    parameters, ~90 MB, and the tokenizer); training changes values, not sizes. 0 if unknown."""
    from course_utils.models import ModelNotFoundError, bundled_model_path

    try:
        folder = bundled_model_path()
    except ModelNotFoundError:
        return 0  # loading the model says what to do
    return sum(file.stat().st_size for file in folder.rglob("*") if file.is_file())


def _validate_columns(tasks: list, text_col: str, multi: bool, on_course_data: bool) -> None:
    """A label or group column that is the text column, or a group column that is the label
    column, raises a UsageError naming the mix-up."""
    for task in tasks:
        flag = f"--task {task.name}:..." if multi else "--label-col"
        if task.label_col == text_col:
            raise UsageError(
                f"{flag}: the label column {text_col!r} is the text column (--text-col "
                f"{text_col}); the label must be a column of categories shared by several "
                "rows, e.g. " + ("sentiment or topic." if on_course_data else
                                 "a column with values such as positive / negative."))
        if task.group_col == text_col:
            raise UsageError(
                f"{'--task ' + task.name + ':...' if multi else '--group-col'}: the group "
                f"column {text_col!r} is the text column (--text-col {text_col}); give a column "
                "of categories, or leave the group out.")
        if not multi and task.group_col is not None and task.group_col == task.label_col:
            others = [col for col in COURSE_COLUMNS[1:] if col != task.label_col]
            example = (f"e.g. --group-col {others[0]}" if on_course_data and others
                       else "another column of the CSV")
            raise UsageError(
                f"--group-col {task.group_col} is the label column too (--label-col "
                f"{task.label_col}); the two must differ: the group is a second column to "
                f"control for ({example}), or leave --group-col out.")


def _validate_steps_per_task(tasks: list, config: TrainingConfig) -> None:
    """Tasks take turns, one per step: fewer steps than tasks leaves a task untrained."""
    if config.max_steps is not None and config.max_steps < len(tasks):
        raise UsageError(
            f"--max-steps {config.max_steps} would train only {config.max_steps} of the "
            f"{len(tasks)} tasks (they take turns, one task per step). Give --max-steps "
            f"{len(tasks)} or more (the default is {TrainingConfig().max_steps}).")


def _validate_prompts(prompts: dict[str, str], config: TrainingConfig) -> None:
    """Each prompt leaves room for the text at the training length (``max_seq_length``); one
    taking more than half of it is printed as a warning."""
    if not any(prompts.values()):
        return
    from transformers import AutoTokenizer

    from course_utils.models import bundled_model_path
    from course_utils.multitask import validate_task_prompts

    tokenizer = AutoTokenizer.from_pretrained(str(bundled_model_path()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            validate_task_prompts(prompts, tokenizer, config.max_seq_length)
        except ValueError as error:
            raise UsageError(str(error)) from None
    if is_main_process():
        for warning in caught:
            print(f"warning: {warning.message}", file=sys.stderr, flush=True)


def _load_user_csv(args: argparse.Namespace, tasks: list, multi: bool
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The CSV's training and held-out parts: every task's label has two classes in each."""
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
    label_cols = _label_columns(tasks)
    try:
        validate_dataframe(frame, text_col=args.text_col, label_cols=label_cols)
        frame = frame.reset_index(drop=True)
        split = stratified_split(frame, by=label_cols, seed=args.seed, key_col=None)
    except DataValidationError as error:
        raise UsageError(f"--data {args.data}: {error}") from None
    train = frame[split == "train"].reset_index(drop=True)
    test = frame[split == "test"].reset_index(drop=True)
    for task in tasks:
        for part, name in ((train, "training"), (test, "held-out")):
            if part[task.label_col].nunique() < 2:
                which = f" (task {task.name!r})" if multi else ""
                raise UsageError(
                    f"--data {args.data}: after holding out a third for evaluation, the {name} "
                    f"part has a single {task.label_col!r} class{which}. Add more rows per "
                    "class (at least 3 of each).")
    return train, test


def prepare_job(args: argparse.Namespace) -> Job:
    """Check the arguments and load the data; raise :class:`UsageError` with a fix."""
    from course_utils.multitask import TaskSpec

    output = _validate_output(args.output)
    multi = bool(args.task or args.prompt or args.no_prompts)
    if multi:
        tasks, prompts = _parse_tasks(args)
    else:
        if args.data is None and args.group_col is None and args.label_col == "sentiment":
            args.group_col = "topic"  # the course's recipe: only sentiment separates
        tasks, prompts = [TaskSpec(args.label_col, args.label_col, args.group_col)], {}
    _validate_columns(tasks, args.text_col, multi, on_course_data=args.data is None)
    config = _training_config(args)
    if multi:
        _validate_steps_per_task(tasks, config)
        _validate_prompts(prompts, config)
    if args.data is None:
        from course_utils.data import load_course_data

        train, test = load_course_data("train"), load_course_data("test")
        unknown = [col for col in dict.fromkeys([args.text_col, *_label_columns(tasks)])
                   if col not in COURSE_COLUMNS]
        if unknown:
            raise UsageError(f"{unknown} is not a column of the course dataset (it has ['text', "
                             "'topic', 'sentiment']). Pass --data PATH.csv to train on your own "
                             "file.")
        source = "course dataset (train split; evaluated on its test split)"
    else:
        with phase(f"reading and checking {args.data}", show=is_main_process()):
            train, test = _load_user_csv(args, tasks, multi)
        source = f"{args.data} ({len(train)} rows to train, {len(test)} held out)"
    return Job(train, test, args.text_col, tasks, prompts, output, config, source, multi)


def _training_config(args: argparse.Namespace) -> TrainingConfig:
    """The run's TrainingConfig from --max-steps / --epochs / --lr / --batch-size / --seed."""
    default_steps = None if args.epochs is not None else TrainingConfig().max_steps
    try:
        return TrainingConfig(max_steps=args.max_steps or default_steps, epochs=args.epochs,
                              learning_rate=args.lr, batch_size=args.batch_size, seed=args.seed,
                              snapshot_every=None, progress="bar")
    except ValueError as error:
        raise UsageError(str(error)) from None


def _parse_tasks(args: argparse.Namespace) -> tuple[list, dict[str, str]]:
    """The --task specs and the prompt of each task, or a UsageError naming the bad one."""
    from course_utils.multitask import parse_tasks

    if args.task and (args.group_col is not None
                      or args.label_col != build_parser().get_default("label_col")):
        raise UsageError("--task replaces --label-col and --group-col; give the columns in "
                         "each --task NAME:LABEL_COL[:GROUP_COL] instead.")
    try:
        return parse_tasks(args.task, args.prompt, no_prompts=args.no_prompts)
    except ValueError as error:
        raise UsageError(str(error)) from None


def build_triplets(job: Job, task) -> pd.DataFrame:
    """``task``'s triplets from the training rows, or a UsageError that says the fix."""
    from course_utils.triplets import make_triplets

    where = f"for task {task.name!r}" if job.multi else "from the training rows"
    if task.group_col:  # a group with one label has no same-group negative: say the CLI's fix
        labels_per_group = job.train.groupby(task.group_col)[task.label_col].nunique()
        single = sorted(map(str, labels_per_group.index[labels_per_group < 2]))
        if single:
            fix = (f"Write --task {task.name}:{task.label_col} without the group" if job.multi
                   else f"Leave out --group-col {task.group_col}")
            raise UsageError(
                f"Cannot build triplets {where}: {task.group_col!r} group(s) {single[:5]} have "
                f"a single {task.label_col!r} label, so their anchors have no negative in "
                f"their own group. {fix} (negatives then come from any group), or drop those "
                "rows from the CSV.")
    counts = job.train[task.label_col].value_counts()
    lonely = sorted(map(str, counts.index[counts < 2]))
    if lonely:
        shown = [text[:40] + "..." if len(text) > 40 else text for text in lonely[:3]]
        raise UsageError(
            f"Cannot build triplets {where}: {len(lonely)} of the {len(counts)} "
            f"{task.label_col!r} labels have a single training row (e.g. {shown}), so their "
            f"anchors have no positive. Is {task.label_col!r} a column of categories? If so, "
            "add rows for those labels or drop them from the CSV.")
    try:
        return make_triplets(job.train, text_col=job.text_col, seed=job.config.seed,
                             **task.recipe())
    except ValueError as error:
        raise UsageError(f"Cannot build triplets {where}: {error}") from None


def run(job: Job) -> int:
    """Lock ``--output``, then train, save and report (on the main process only)."""
    from course_utils.safe_output import OutputFolderError, lock_output

    if not is_main_process():
        return _train_save_report(job)
    try:
        with lock_output(job.output):
            return _train_save_report(job)
    except OutputFolderError as error:
        raise UsageError(f"--output {error}") from None


def _train_save_report(job: Job) -> int:
    from course_utils import training_presets
    from course_utils.evaluation import compare_reports, embedding_report
    from course_utils.models import load_model

    main = is_main_process()
    if main:
        print(f"data: {job.source}", flush=True)
    with phase(f"building triplets from {len(job.train):,} rows", show=main):
        triplets = {task.name: build_triplets(job, task) for task in job.tasks}
    job.config = _fit_batch_size(job.config, triplets, show=main)
    seed, labels = job.config.seed, _label_columns(job.tasks)
    report_train = report_sample(job.train, MAX_REPORT_TRAIN_ROWS, labels, seed)
    report_test = report_sample(job.test, MAX_REPORT_TEST_ROWS, labels, seed)
    sampled = (f" (a stratified sample of {len(report_train):,} + {len(report_test):,} rows)"
               if len(report_train) < len(job.train) or len(report_test) < len(job.test)
               else "")
    prompts = {task.name: job.prompts.get(task.name) for task in job.tasks}

    def report(model, prompt: str | None, **cache: bool) -> pd.DataFrame:
        return embedding_report(model, report_train, report_test, text_col=job.text_col,
                                label_cols=labels, prompt=prompt, **cache)

    if main:
        _print_plan(job, triplets, prompts)
        with phase(f"held-out report before training{sampled}"):
            base = load_model()
            before = {name: report(base, prompt) for name, prompt in prompts.items()}
    result = training_presets.train_triplets(
        triplets if job.multi else triplets[job.tasks[0].name], config=job.config,
        prompts=job.prompts or None)
    if not main:
        return 0
    with phase(f"saving to {job.output}"):
        path, not_saved = _save(result.model, job.output)
    with phase("held-out report after training"):
        after = {name: report(result.model, prompt, cache=False)
                 for name, prompt in prompts.items()}
    print(result.summary())
    for name, prompt in prompts.items():
        print(f"\nheld-out report, texts encoded with the prompt {prompt!r} (task {name}):"
              if job.multi else "\nheld-out report (kNN accuracy, silhouette, linear probe):")
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            print(compare_reports(before[name], after[name]).to_string())
    if path is not None:
        _print_how_to_load(path, prompts)
    if not_saved is not None:  # last, so it is the line the user sees
        print(f"{build_parser().prog}: error: --output {not_saved}", file=sys.stderr)
        return EXIT_NOT_SAVED
    return 0


def _save(model, output: Path) -> tuple[Path | None, OSError | None]:
    """Save the trained model: ``(output, None)``, or where it was kept instead (None:
    nowhere) and the error that says why (``cu.training.save_model`` keeps it on a failure)."""
    from course_utils import training
    from course_utils.safe_output import ResultNotSavedError, fallback_folders

    try:
        return training.save_model(model, output), None
    except ResultNotSavedError as error:
        return error.kept_at, error
    except FileExistsError as error:  # filled during training, by something ignoring the lock
        kept, problem = _save(model, fallback_folders(output.name)[0])
        where = f"kept in {kept} instead" if kept else f"not kept either ({problem})"
        return kept, FileExistsError(f"{error} The trained model is {where}.")


def _print_how_to_load(path: Path, prompts: dict) -> None:
    example = next((name for name, prompt in prompts.items() if prompt), None)
    usage = (f", then model.encode(texts, prompt_name={example!r})" if example
             else f" or cu.models.load_model({str(path)!r})")
    print(f"\nsaved to {path}; load it with SentenceTransformer({str(path)!r}){usage}")


def _fit_batch_size(config: TrainingConfig, triplets: dict[str, pd.DataFrame], *,
                    show: bool) -> TrainingConfig:
    """``config`` with a batch no larger than each process's share of the smallest task's
    triplets (what training would use anyway), saying so when --batch-size was cut."""
    processes = max(1, int(os.environ.get("WORLD_SIZE", "1")))  # torchrun sets it
    rows = min(len(frame) for frame in triplets.values())
    fitted = max(1, min(config.batch_size, rows // processes))
    if fitted < config.batch_size and show:
        share = f"{rows} triplets" + (f" shared by {processes} processes" if processes > 1
                                      else "")
        print(f"note: --batch-size {config.batch_size} is more than the {share}; each step "
              f"uses a batch of {fitted}.", flush=True)
    return replace(config, batch_size=fitted)


def _print_plan(job: Job, triplets: dict[str, pd.DataFrame], prompts: dict) -> None:
    """What will be trained: the triplets of each task, how they were built, steps and rate."""
    config = job.config
    length = f"{config.max_steps} steps" if config.max_steps else f"{config.epochs:g} epoch(s)"
    length += f" at lr {config.learning_rate:g}, batch {config.batch_size}"
    for task in job.tasks:
        how = (f"same-{task.group_col} negatives, other-{task.group_col} positives"
               if task.group_col else "random negatives")
        if not job.multi:
            print(f"triplets: {len(triplets[task.name])} ({how}); {length}")
            return
        print(f"task {task.name}: {len(triplets[task.name])} triplets by {task.label_col} "
              f"({how}); prompt {prompts[task.name]!r}")
    print(f"{length}, tasks in turn")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with code 2 and a usage message on its own errors
    from course_utils.notebook_setup import apply_quiet_offline_env, quiet_logging

    apply_quiet_offline_env()
    quiet_logging()
    # This process's share of the CPUs (torchrun starts LOCAL_WORLD_SIZE of them per machine).
    from course_utils.notebook_setup import choose_threads, precision_setting, set_torch_threads

    try:  # a wrong COURSE_THREADS or COURSE_PRECISION: one line, before any work
        threads = choose_threads()
        precision_setting()
    except ValueError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    set_torch_threads(max(1, threads // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))
    try:
        return run(prepare_job(args))
    except UsageError as error:
        if is_main_process():  # under torchrun every process finds the same problem
            print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS


if __name__ == "__main__":
    sys.exit(main())
