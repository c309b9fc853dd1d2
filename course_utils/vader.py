"""The VADER ground truth (Hutto & Gilbert 2014): real sentences rated for sentiment by people,
-4..+4, in four domains (notebook 06).

Fetch once while online (``python -m course_utils.cli.vader fetch``, see
:mod:`course_utils.vader_files`); :func:`load_vader` then reads the cache offline. See
``assets/data/VADER_DATA_CARD.md`` and docs/real_data.md.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.data import validate_dataframe

# Also public here, where notebooks, the benchmarks and the data card have always found them.
from course_utils.vader_files import (  # noqa: F401
    REFETCH,
    VADER_FILES,
    VaderChecksumWarning,
    VaderDataError,
    VaderNotAvailableError,
    cache_problems,
    fetch_vader,
    how_to_get_the_data,
    is_cached,
    vader_dir,
)
from course_utils.validation import validate_whole_number

DOMAINS = tuple(VADER_FILES)
SENTIMENTS = ("positive", "negative")
#: Ratings are means of -4..+4 ratings; anything outside means the file is not what we expect.
RATING_RANGE = (-4.0, 4.0)
VADER_COLUMNS = ("id", "text", "domain", "rating", "sentiment")


def _clean(text: str) -> str:
    """NFC-normalise and collapse runs of whitespace (tabs, newlines) into single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def read_ground_truth(path: str | os.PathLike, domain: str) -> pd.DataFrame:
    """Parse one ``*_GroundTruth.txt`` file -> DataFrame with columns id, text, domain, rating.

    Split by hand (``id<TAB>rating<TAB>text``): the texts hold quote characters a CSV reader
    would misread. Ids are prefixed with the domain (``tweets-17``) to stay unique.
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
            f"files. {REFETCH}") from None
    lines = text.splitlines()
    if not lines or [c.strip().lower() for c in lines[0].split("\t")] != [
        "id", "sentiment", "text"
    ]:
        header = lines[0][:60] if lines else "(empty file)"
        raise VaderDataError(
            f"{path.name} does not start with the header 'id<TAB>sentiment<TAB>text' "
            f"(found {header!r}); it is not a VADER ground-truth file. {REFETCH}")
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
                f"id<TAB>mean rating<TAB>text. {REFETCH}") from None
        low, high = RATING_RANGE
        if not low <= rating <= high:
            raise VaderDataError(
                f"{path.name}, line {number}: rating {rating} is outside {low}..{high}; the "
                f"file is damaged. {REFETCH}")
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
    validate_whole_number(per_class, "per_class", allow_none=True)
    validate_whole_number(seed, "seed", minimum=0)
    return float(threshold)


def label_by_threshold(ratings: pd.Series, threshold: float) -> pd.Series:
    """``positive`` if rating >= threshold, ``negative`` if <= -threshold, else ``None``."""
    labels = pd.Series(None, index=ratings.index, dtype=object)
    labels[ratings >= threshold] = "positive"
    labels[ratings <= -threshold] = "negative"
    return labels


def balanced_sample(frame: pd.DataFrame, per_class: int, *, by: Iterable[str] = ("domain",
                    "sentiment"), seed: int = 0) -> pd.DataFrame:
    """``per_class`` rows from every cell of ``by`` (e.g. domain x sentiment), seeded; the
    result keeps the original row order."""
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

    Returns a DataFrame with columns id, text, domain, rating (float), sentiment. Needs the cached
    files (see :func:`fetch_vader`); it never downloads. Checks the SHA-256, drops texts without a
    letter or digit and duplicate texts (they would leak between train and test), labels
    ``positive`` / ``negative`` at ``+-threshold`` and drops the rows in between; with
    ``per_class``, keeps that many seeded rows per domain x sentiment cell. Rows dropped per step
    are in ``frame.attrs["vader"]``.

    Args:
        domains: ``None`` (all four), one of ``"tweets"``, ``"movies"``, ``"products"``,
            ``"editorials"``, or a list of them.
    """
    chosen = _validate_domains(domains)
    threshold = _validate_arguments(threshold, per_class, seed)
    folder = vader_dir()
    _validate_cached_files(folder, [VADER_FILES[domain] for domain in chosen])
    parts = [read_ground_truth(folder / VADER_FILES[domain], domain) for domain in chosen]
    frame, counts = _clean_and_label(pd.concat(parts, ignore_index=True), threshold)
    if per_class is not None:
        frame = balanced_sample(frame, int(per_class), seed=int(seed))
    frame = frame.loc[:, list(VADER_COLUMNS)].reset_index(drop=True)
    label_cols = ("domain", "sentiment") if len(chosen) > 1 else ("sentiment",)
    validate_dataframe(frame, label_cols=label_cols,
                       allowed_labels={"domain": DOMAINS, "sentiment": SENTIMENTS})
    counts.update(rows=len(frame), threshold=threshold, per_class=per_class, seed=int(seed))
    frame.attrs = {"vader": counts}
    return frame


def _validate_cached_files(folder: Path, names: list[str]) -> None:
    """Raise unless every file in ``names`` is in ``folder`` and passes its checksum."""
    problems = {n: p for n, p in cache_problems(folder).items() if n in names}
    missing = sorted(n for n, p in problems.items() if p == "missing")
    if missing:
        raise VaderNotAvailableError(
            f"The VADER data is not on this machine yet (missing in {folder}: {missing}). "
            f"{how_to_get_the_data(folder)}"
        )
    if problems:
        raise VaderDataError(
            f"{sorted(problems)} in {folder} differ from the verified copies (checksum "
            f"mismatch: damaged or edited). {REFETCH}"
        )


def _clean_and_label(frame: pd.DataFrame, threshold: float) -> tuple[pd.DataFrame, dict]:
    """Steps 2-4 of :func:`load_vader`; returns the labelled rows and how many each dropped."""
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
    return frame[~neutral], counts
