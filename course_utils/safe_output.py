"""Writing results so that nothing is lost: :func:`validate_writable` before the expensive work
(tried for real, not from mode bits), :func:`lock_output` for the run (a second run to the same
folder stops at once), :func:`atomic_folder` and :func:`write_atomically` for the writing
(a temporary beside the target, renamed into place when complete).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

PARTIAL_MARK = ".partial-"
LOCK_SUFFIX = ".lock"


class OutputFolderError(OSError):
    """The output folder cannot be used; the message says why and what to do instead."""


def _nearest_existing(path: Path) -> Path:
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def validate_writable(path: str | os.PathLike) -> Path:
    """Raise :class:`OutputFolderError` unless ``path`` can become a new folder of results.

    Creates nothing: the probe folder it makes in the nearest existing parent is removed.
    """
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{path} is a file; give the path of a new or empty folder.")
    if path.is_dir() and any(path.iterdir()):
        raise OutputFolderError(
            f"{path} already exists and is not empty. Choose a new folder (nothing is "
            "overwritten), or delete the old one first.")
    parent = _nearest_existing(path.parent if not path.exists() else path)
    if not parent.is_dir():
        raise OutputFolderError(f"{path} cannot be created: {parent} is not a folder.")
    try:
        probe = tempfile.mkdtemp(prefix=f".{path.name}{PARTIAL_MARK}probe-", dir=parent)
    except OSError as error:
        raise OutputFolderError(
            f"{path} cannot be written ({error.strerror or error} in {parent}). Choose a "
            "folder you can write to, e.g. one in your home folder.") from None
    os.rmdir(probe)
    return path


#: Folders the repository's .gitignore ignores at any depth: results may go there.
IGNORED_RESULT_FOLDERS = ("outputs", "build")


def validate_not_committable(path: str | os.PathLike) -> Path:
    """Raise :class:`OutputFolderError` if ``path`` lies inside the course repository outside
    a git-ignored results folder (``outputs/``, ``build/``): ``git add .`` would then commit
    a ~90 MB model."""
    from course_utils.paths import REPO_ROOT

    path = Path(path).expanduser()
    try:
        inside = path.resolve().relative_to(REPO_ROOT.resolve())
    except ValueError:
        return path  # outside the repository
    if not (REPO_ROOT / ".git").exists():
        return path  # not a git checkout: nothing would be committed
    if any(part in IGNORED_RESULT_FOLDERS for part in inside.parts):
        return path
    suggestion = Path("outputs") / path.name
    raise OutputFolderError(
        f"{path} is inside the course repository and not git-ignored, so the model (~90 MB) "
        f"would end up in a commit. Use --output {suggestion} (git-ignored) or a folder "
        "outside the repository.")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _owner(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def lock_output(path: str | os.PathLike) -> Iterator[Path]:
    """Hold ``path`` for this process: a second lock on it fails at once.

    Raises :class:`OutputFolderError` naming the other process. The lock file ``.<name>.lock``
    is removed on exit; one left by a dead process is taken over.
    """
    path = Path(path).expanduser().absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent / f".{path.name}{LOCK_SUFFIX}"
    for _ in range(2):
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            owner = _owner(lock)
            if owner is not None and owner != os.getpid() and _process_alive(owner):
                raise OutputFolderError(
                    f"another training (process {owner}) is writing to {path}; wait for it "
                    "to finish or choose another folder.") from None
            lock.unlink(missing_ok=True)  # left by a run that was killed
    else:
        raise OutputFolderError(f"could not lock {path}; try again or choose another folder.")
    with os.fdopen(handle, "w") as file:
        file.write(str(os.getpid()))
    try:
        yield path
    finally:
        if _owner(lock) == os.getpid():
            lock.unlink(missing_ok=True)


def remove_stale_partials(path: Path) -> None:
    """Delete temporary folders left beside ``path`` by saves that were killed."""
    for leftover in path.parent.glob(f".{path.name}{PARTIAL_MARK}*"):
        pid = leftover.name.rsplit(PARTIAL_MARK, 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; rename it to ``path`` if the block succeeds.

    ``path`` must not exist or be empty. On an error the temporary folder is removed; if another
    process filled ``path`` meanwhile, :class:`OutputFolderError` and nothing is overwritten.
    """
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}{PARTIAL_MARK}{os.getpid()}-",
                                    dir=path.parent))
    try:
        yield scratch
        try:
            os.rename(scratch, path)  # replaces an empty folder; atomic on one file system
        except OSError as error:
            if error.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise OutputFolderError(
                    f"{path} was filled by someone else while this run was saving; nothing "
                    "was overwritten. Choose a new folder.") from None
            raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)


def write_atomically(path: str | os.PathLike, payload: bytes | Callable[[BinaryIO], object]
                     ) -> Path:
    """Write ``payload`` (bytes, or a function writing to an open binary file) to a temporary
    file beside ``path``, fsync, rename into place; return the path. Readers never see half a
    file; the file gets ``0o666`` minus the umask (``mkstemp`` alone would make it private).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as tmp:
            if isinstance(payload, bytes | bytearray):
                tmp.write(payload)
            else:
                payload(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
