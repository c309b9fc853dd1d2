"""Build the course dataset ``course_reviews.csv`` from the hand-written source files.

What
----
The course "Why P, not Q?" uses a small set of short, review-style English
sentences about five topics (restaurants, movies, hotels, electronics, fitness),
each labelled positive or negative. The sentences live in plain text files,
one sentence per line::

    assets/data/source/<topic>_<sentiment>.txt

This script reads those 10 files, checks them, and writes
``assets/data/course_reviews.csv`` with the columns::

    id,text,topic,sentiment,split

Why
---
* The text files are easy to read, review and edit in a diff; the CSV is what
  the course notebooks load.
* Ids are stable (``<topic>-<pos|neg>-<line number>``, e.g. ``hotels-neg-007``),
  so a sentence keeps its id as long as it keeps its line.
* The train/test split is stratified and deterministic: within every
  (topic, sentiment) file, the 22 lines whose ids have the smallest SHA-256
  digest are ``test`` and the other 44 are ``train``. No random seed is
  involved, and editing one file never moves rows of another file between
  splits.
* Running the script twice gives a byte-identical CSV (fixed row order,
  ``\\n`` line endings, minimal quoting).

Usage::

    python assets/data/build_course_dataset.py            # writes the CSV
    python assets/data/build_course_dataset.py --check    # validate only

On invalid input the script exits with status 1 and a message naming the
file and line.
"""

import argparse
import csv
import hashlib
import sys
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
SOURCE_DIR = DATA_DIR / "source"
OUTPUT_CSV = DATA_DIR / "course_reviews.csv"

TOPICS = ["restaurants", "movies", "hotels", "electronics", "fitness"]
SENTIMENTS = ["positive", "negative"]
SHORT = {"positive": "pos", "negative": "neg"}

LINES_PER_FILE = 66
TEST_PER_FILE = 22
MIN_WORDS = 8
MAX_WORDS = 30
FIELDS = ["id", "text", "topic", "sentiment", "split"]


def fail(message):
    """Print an error message and stop with exit status 1."""
    sys.exit(f"error: {message}")


def read_source(path):
    """Return the sentences of one source file, after validating every line."""
    if not path.is_file():
        fail(f"{path}: file not found")
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"{path}: not valid UTF-8 ({exc})")
    if "\r" in raw:
        fail(f"{path}: contains carriage returns; use \\n line endings")

    lines = raw.split("\n")
    if lines and lines[-1] == "":  # a final newline is fine
        lines.pop()

    for number, line in enumerate(lines, start=1):
        where = f"{path.relative_to(DATA_DIR)}:{number}"
        if not line.strip():
            fail(f"{where}: empty line")
        if line != line.strip():
            fail(f"{where}: leading or trailing whitespace")
        words = len(line.split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            fail(f"{where}: {words} words, expected {MIN_WORDS}-{MAX_WORDS}: {line!r}")

    if len(lines) != LINES_PER_FILE:
        fail(f"{path.relative_to(DATA_DIR)}: {len(lines)} lines, expected {LINES_PER_FILE}")
    return lines


def test_ids(ids):
    """Pick the test ids of one file: the TEST_PER_FILE smallest SHA-256 digests."""
    ranked = sorted(ids, key=lambda i: hashlib.sha256(i.encode("utf-8")).hexdigest())
    return set(ranked[:TEST_PER_FILE])


def build_rows():
    """Read and validate all source files and return the CSV rows in order."""
    rows = []
    seen = {}  # normalised text -> "file:line" where it first appeared
    for topic in TOPICS:
        for sentiment in SENTIMENTS:
            path = SOURCE_DIR / f"{topic}_{sentiment}.txt"
            lines = read_source(path)
            ids = [f"{topic}-{SHORT[sentiment]}-{n:03d}" for n in range(1, len(lines) + 1)]
            test = test_ids(ids)
            for number, (row_id, text) in enumerate(zip(ids, lines, strict=True), start=1):
                where = f"{path.relative_to(DATA_DIR)}:{number}"
                key = " ".join(text.lower().split())
                if key in seen:
                    fail(f"{where}: duplicate of {seen[key]}: {text!r}")
                seen[key] = where
                split = "test" if row_id in test else "train"
                rows.append([row_id, text, topic, sentiment, split])
    return rows


def write_csv(rows, path):
    """Write rows with a header, '\\n' line endings and minimal quoting."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(FIELDS)
        writer.writerows(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="validate the source files only")
    parser.add_argument("--output", type=Path, default=OUTPUT_CSV, help="CSV path to write")
    args = parser.parse_args()

    rows = build_rows()
    n_test = sum(row[4] == "test" for row in rows)
    if args.check:
        print(f"ok: {len(rows)} rows ({len(rows) - n_test} train, {n_test} test)")
        return
    write_csv(rows, args.output)
    print(f"wrote {args.output}: {len(rows)} rows ({len(rows) - n_test} train, {n_test} test)")


if __name__ == "__main__":
    main()
