"""The course dataset (``assets/data/course_reviews.csv``: text, topic, sentiment, id, split):
loading, schema validation with actionable errors, deterministic splits. See
``assets/data/DATA_CARD.md``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from course_utils.paths import data_dir, restore_advice

COURSE_CSV_NAME = "course_reviews.csv"
TOPICS = ("restaurants", "movies", "hotels", "electronics", "fitness")
SENTIMENTS = ("positive", "negative")
COURSE_COLUMNS = ("id", "text", "topic", "sentiment", "split")
SPLITS = ("all", "train", "test")


class DataValidationError(ValueError):
    """A dataset does not match what the course expects; the message says what to change."""


def course_csv_path() -> Path:
    """Where the course dataset lives (``COURSE_ASSETS_DIR`` moves it)."""
    return data_dir() / COURSE_CSV_NAME


def read_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV with errors a student can act on (missing file, not a CSV, empty file)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str), got {type(path).__name__}.")
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"No file at {path}. Check the path (relative paths start from the current "
            f"folder, {Path.cwd()})."
        )
    if path.is_dir():
        raise DataValidationError(f"{path} is a folder; pass the path of a .csv file inside it.")
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            f"{path} is empty; it needs a header row and data rows."
        ) from None
    except UnicodeDecodeError:
        raise DataValidationError(_not_utf8_message(path)) from None
    except pd.errors.ParserError as error:
        raise DataValidationError(
            f"{path} could not be read as a UTF-8 CSV ({type(error).__name__}: "
            f"{str(error).strip()}). Check the delimiter is a comma and text with commas "
            "is quoted."
        ) from None
    if frame.empty:
        raise DataValidationError(f"{path} has a header but no data rows.")
    frame.attrs["source"] = str(path)  # validate_dataframe then reports CSV line numbers
    return frame


def _not_utf8_message(path: Path) -> str:
    """Say where the first non-UTF-8 byte is and how to re-save the file as UTF-8."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        start = 0
    except UnicodeDecodeError as error:
        start = error.start
    line = data[:start].count(b"\n") + 1
    codec = "cp1252"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        kind, codec = "looks like UTF-16 (Excel's 'Unicode Text')", "utf-16"
    elif b"\x00" in data[:4096]:
        kind = "looks binary, not like a text file"
    else:
        kind = "looks like Windows-1252/Latin-1 (Excel's plain 'CSV')"
    return (
        f"{path} is not UTF-8 text (byte 0x{data[start:start + 1].hex()} on line {line}); it "
        f"{kind}. Save it as UTF-8 (Excel: 'CSV UTF-8'; LibreOffice: character set UTF-8), or "
        f"convert it: iconv -f {codec} -t utf-8 {path.name} > fixed.csv"
    )


def invalid_text_positions(values: Iterable[object]) -> list[int]:
    """Positions of values that are not usable text: not a string, or not encodable as UTF-8
    (a lone surrogate such as '\\udc80', left by a file decoded with the wrong codec)."""
    bad = []
    for position, value in enumerate(values):
        if not isinstance(value, str):
            bad.append(position)
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            bad.append(position)
    return bad


def _rows(frame: pd.DataFrame, mask: pd.Series) -> str:
    """'CSV line(s) [..]' for a frame read by :func:`read_csv`, else 'rows [..]' (index)."""
    index = frame.index[mask.to_numpy()][:5]
    if frame.attrs.get("source") and isinstance(frame.index, pd.RangeIndex):
        return f"line(s) {[int(i) + 2 for i in index]} of {Path(frame.attrs['source']).name}"
    return f"rows {list(index)}"


def _near_duplicate_labels(labels: pd.Series) -> list[list[str]]:
    """Groups of distinct labels that differ only in surrounding spaces or letter case."""
    variants: dict[str, set[str]] = {}
    for label in labels.dropna().astype(str).unique():
        variants.setdefault(label.strip().casefold(), set()).add(label)
    return [sorted(group) for group in variants.values() if len(group) > 1]


def validate_dataframe(
    frame: pd.DataFrame,
    *,
    text_col: str = "text",
    label_cols: Sequence[str] = ("topic", "sentiment"),
    allowed_labels: dict[str, Iterable[str]] | None = None,
    min_classes: int = 2,
    allow_duplicates: bool = False,
) -> pd.DataFrame:
    """Check a DataFrame is usable for the course; return it unchanged, or raise with a fix.

    Checks columns, empty or unencodable texts, missing labels or ones spelled two ways, unknown
    labels (``allowed_labels``), ``min_classes`` per label column and duplicate texts (unless
    ``allow_duplicates``). A frame from :func:`read_csv` is reported by CSV line number.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"Expected a pandas DataFrame, got {type(frame).__name__}.")
    if frame.empty:
        raise DataValidationError("The DataFrame has no rows; nothing to learn from.")
    needed = [text_col, *label_cols]
    missing = [col for col in needed if col not in frame.columns]
    if missing:
        raise DataValidationError(
            f"Missing column(s) {missing}. The data has columns {list(frame.columns)}; "
            "rename yours or pass the right names (e.g. text_col=..., label_cols=...)."
        )
    _validate_text_column(frame, text_col)
    for col in label_cols:
        _validate_label_column(frame, col, (allowed_labels or {}).get(col), min_classes)
    if not allow_duplicates:
        texts = frame[text_col]
        duplicated = texts.duplicated(keep="first")
        if duplicated.any():
            examples = list(texts[duplicated].head(3))
            raise DataValidationError(
                f"{int(duplicated.sum())} duplicate text(s), e.g. {examples}. Duplicates leak "
                "between train and test; drop them with frame.drop_duplicates(subset=text_col)."
            )
    return frame


def _validate_text_column(frame: pd.DataFrame, text_col: str) -> None:
    """Every text is a non-empty string that can be encoded; the fix says how to get there."""
    texts = frame[text_col]
    empty = texts.isna() | (texts.astype(str).str.strip() == "")
    if empty.any():
        fix = ("Fill in the text on those lines or delete them, and run again."
               if frame.attrs.get("source") else
               f"Drop them: frame = frame[frame[{text_col!r}].fillna('').str.strip() != ''].")
        raise DataValidationError(
            f"{int(empty.sum())} empty {text_col!r} value(s) ({_rows(frame, empty)}). {fix}"
        )
    if not pd.api.types.is_object_dtype(texts) and not pd.api.types.is_string_dtype(texts):
        raise DataValidationError(
            f"Column {text_col!r} holds {texts.dtype} values (e.g. {str(texts.iloc[0])!r}), not "
            f"sentences. Name the column with the texts (text_col / --text-col); the columns "
            f"are {list(frame.columns)}."
        )
    invalid = pd.Series(False, index=frame.index)
    invalid.iloc[invalid_text_positions(texts)] = True
    if invalid.any():
        raise DataValidationError(
            f"{int(invalid.sum())} {text_col!r} value(s) are not valid text "
            f"({_rows(frame, invalid)}): numbers, or characters left by decoding a file with "
            "the wrong encoding. Make every text a sentence saved as UTF-8, or drop those rows."
        )


def _validate_label_column(frame: pd.DataFrame, col: str, allowed: Iterable[str] | None,
                           min_classes: int) -> None:
    """No label is missing, unknown (when ``allowed`` is given) or spelled two ways, and there
    are at least ``min_classes`` classes."""
    labels = frame[col]
    if labels.isna().any():
        raise DataValidationError(
            f"Column {col!r} has {int(labels.isna().sum())} missing label(s) "
            f"({_rows(frame, labels.isna())}). Fill them in or drop those rows."
        )
    if allowed is not None:
        known = set(allowed)
        unknown = sorted(set(labels.astype(str)) - known)
        if unknown:
            raise DataValidationError(
                f"Column {col!r} has unknown label(s) {unknown}; expected one of "
                f"{sorted(known)}. Fix the spelling or map them first."
            )
    near = _near_duplicate_labels(labels)
    if near:
        raise DataValidationError(
            f"Column {col!r} has labels that differ only in spaces or letter case: "
            f"{near[:3]}; they would become separate classes. Make each label one spelling "
            + ("in the file." if frame.attrs.get("source") else
               f"(e.g. frame[{col!r}] = frame[{col!r}].str.strip().str.lower()).")
        )
    classes = labels.nunique()
    if classes < min_classes:
        raise DataValidationError(
            f"Column {col!r} has only {classes} class ({sorted(set(labels))}); contrastive "
            f"learning needs at least {min_classes} so there is something to contrast with."
        )


def load_course_data(split: str = "all") -> pd.DataFrame:
    """The course dataset as a DataFrame with columns id, text, topic, sentiment, split.

    Args:
        split: ``"all"`` (default), ``"train"`` or ``"test"``.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    path = course_csv_path()
    if not path.exists():
        raise FileNotFoundError(
            f"The course dataset is missing ({path}). {restore_advice()} A checkout can also "
            "regenerate it: `python assets/data/build_course_dataset.py`."
        )
    frame = read_csv(path)
    missing = [col for col in COURSE_COLUMNS if col not in frame.columns]
    if missing:
        raise DataValidationError(f"{path} lacks column(s) {missing}; regenerate it.")
    validate_dataframe(
        frame,
        allowed_labels={"topic": TOPICS, "sentiment": SENTIMENTS, "split": ("train", "test")},
        label_cols=("topic", "sentiment", "split"),
    )
    if split != "all":
        frame = frame[frame["split"] == split]
    return frame.reset_index(drop=True)


def stable_fraction(key: str, seed: int = 0) -> float:
    """A number in [0, 1) that depends only on ``key`` and ``seed`` (not on row order)."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def stratified_split(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    *,
    test_fraction: float = 1 / 3,
    seed: int = 0,
    key_col: str | None = None,
) -> pd.Series:
    """Assign each row to ``"train"`` or ``"test"``, stratified by the column(s) ``by``.

    Deterministic whatever the row order: within each stratum rows are ordered by a hash of their
    key (``key_col``, else the text, else the index) and the first ``round(n * test_fraction)``
    go to test.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction!r}.")
    by = [by] if isinstance(by, str) else list(by)
    missing = [col for col in by if col not in frame.columns]
    if missing:
        raise DataValidationError(
            f"Cannot stratify by missing column(s) {missing}; columns are {list(frame.columns)}."
        )
    if key_col is not None:
        keys = frame[key_col].astype(str)
    elif "text" in frame.columns:
        keys = frame["text"].astype(str)
    else:
        keys = pd.Series(frame.index.astype(str), index=frame.index)
    order = keys.map(lambda key: stable_fraction(key, seed))
    split = pd.Series("train", index=frame.index, dtype=object)
    for _, group in frame.groupby(by, sort=True):
        n_test = round(len(group) * test_fraction)
        if len(group) >= 2:
            n_test = min(max(n_test, 1), len(group) - 1)
        else:
            n_test = 0
        test_index = order.loc[group.index].sort_values(kind="stable").index[:n_test]
        split.loc[test_index] = "test"
    return split
