"""Writing results so that nothing is lost: :func:`validate_writable` before the expensive work
(tried for real, not from mode bits), :func:`lock_output` for the run (a second run to the same
folder stops at once), :func:`atomic_folder` and :func:`write_atomically` for the writing
(a temporary beside the target, renamed into place when complete), and
:func:`save_folder_or_keep_elsewhere` when a finished result must not be lost (a full disk keeps
it in a fallback folder that the error names). Symlinks in an output path are followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

PARTIAL_MARK = ".partial-"
LOCK_SUFFIX = ".lock"


class OutputFolderError(OSError):
    """The output folder cannot be used; the message says why and what to do instead."""


class ResultNotSavedError(OSError):
    """A finished result could not be written where asked. ``kept_at`` is the fallback folder
    that holds it instead (named in the message), or None if no fallback could be written."""

    def __init__(self, message: str, kept_at: Path | None = None):
        super().__init__(message)
        self.kept_at = kept_at

    def __str__(self) -> str:
        return str(self.args[0])


#: A saved model needs its weights' size plus this share, plus :data:`SPACE_SLACK_BYTES`
#: (tokenizer files, config, model card).
SPACE_MARGIN = 1.1
SPACE_SLACK_BYTES = 5_000_000


def resolve_output(path: str | os.PathLike) -> Path:
    """``path`` with ``~`` expanded and symlinks followed (also a dangling one: its target is
    where the folder will be made). A symlink cannot be renamed over, so every write goes to the
    real folder. A symlink loop raises :class:`OutputFolderError`."""
    path = Path(path).expanduser()
    try:
        return path.resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: a loop, before Python 3.13
        raise OutputFolderError(
            f"{path} cannot be followed ({getattr(error, 'strerror', None) or error}): a "
            "symlink in it points in a circle. Remove the symlink or give a plain folder "
            "path.") from None


def _megabytes(size: float) -> str:
    return f"{size / 1e6:,.1f} MB" if size < 1e7 else f"{size / 1e6:,.0f} MB"


def validate_free_space(path: str | os.PathLike, need_bytes: int) -> Path:
    """Raise :class:`OutputFolderError` unless the file system that will hold ``path`` has room
    for ``need_bytes`` (plus a margin); return ``path``. Checked before expensive work, so a
    full disk is found before training, not after it."""
    path = Path(path)
    need = int(need_bytes * SPACE_MARGIN) + SPACE_SLACK_BYTES
    where = _nearest_existing(path)
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        return path  # cannot tell: the save itself will find out
    if free < need:
        raise OutputFolderError(
            f"{path} needs about {_megabytes(need)} but the disk holding {where} has only "
            f"{_megabytes(free)} free. Free some space there, or choose a folder on another "
            "disk (df -h lists them).")
    return path


def _nearest_existing(path: Path) -> Path:
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def validate_writable(path: str | os.PathLike, need_bytes: int = 0) -> Path:
    """Raise :class:`OutputFolderError` unless ``path`` can become a new folder of results with
    room for ``need_bytes``; return it with symlinks followed (:func:`resolve_output`).

    Creates nothing: the probe folder it makes in the nearest existing parent is removed.
    """
    given = Path(path).expanduser()
    path = resolve_output(given)
    if given.is_symlink():  # name both: the user typed one, the files go to the other
        given = Path(f"{given} (a symlink to {path})")
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{given} is a file; give the path of a new or empty folder.")
    if path.is_dir() and any(path.iterdir()):
        raise OutputFolderError(
            f"{given} already exists and is not empty. Choose a new folder (nothing is "
            "overwritten), or delete the old one first.")
    parent = _nearest_existing(path.parent)
    if not parent.is_dir():
        raise OutputFolderError(f"{given} cannot be created: {parent} is not a folder.")
    try:
        probe = tempfile.mkdtemp(prefix=f".{path.name}{PARTIAL_MARK}probe-", dir=parent)
    except OSError as error:
        raise OutputFolderError(
            f"{given} cannot be written ({error.strerror or error} in {parent}). Choose a "
            "folder you can write to, e.g. one in your home folder.") from None
    os.rmdir(probe)
    if need_bytes:
        validate_free_space(path, need_bytes)
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


def _process_identity(pid: int) -> str:
    """``"<boot id> <start time>"`` of process ``pid`` (Linux), or ``""`` where unknown. A PID is
    reused by later processes; this pair is not, so a lock names its process for good."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
        start = stat.rsplit(")", 1)[1].split()[19]  # field 22, after the command name
    except (OSError, IndexError):
        return ""
    return f"{boot} {start}"


def _owner(lock: Path) -> tuple[int, str] | None:
    """The PID and process identity written in ``lock`` (identity ``""`` in an old lock)."""
    try:
        first, _, rest = lock.read_text().strip().partition("\n")
        return int(first), rest.strip()
    except (OSError, ValueError):
        return None


def _owner_running(owner: tuple[int, str] | None) -> bool:
    """Whether the lock's process still runs: its PID is alive and, where the lock recorded
    it, the process with that PID is the same one (not a later process given the same PID)."""
    if owner is None or owner[0] == os.getpid():
        return False
    pid, identity = owner
    if not _process_alive(pid):
        return False
    now = _process_identity(pid)
    return not (identity and now and now != identity)


def _take_lock(lock: Path, path: Path) -> int:
    """Create ``lock`` exclusively and return its handle; a lock of a process that has ended is
    taken over. Raises :class:`OutputFolderError` naming the lock file otherwise."""
    for _ in range(2):
        if lock.is_dir() or (lock.exists() and not lock.is_file()):
            raise OutputFolderError(
                f"{lock} is a folder (or not a file), but that is where the lock file of "
                f"{path} goes. Move or delete it (a run never makes a folder there), or choose "
                "another output folder.")
        try:
            return os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _owner(lock)
            if _owner_running(owner):
                raise OutputFolderError(
                    f"another training (process {owner[0]}) is writing to {path}; wait for it "
                    f"to finish or choose another folder. If no training is running (e.g. "
                    f"after a restart), delete its lock file: rm {lock}") from None
            lock.unlink(missing_ok=True)  # left by a run that was killed
    raise OutputFolderError(f"could not lock {path} ({lock} keeps coming back); try again or "
                            "choose another folder.")


@contextlib.contextmanager
def lock_output(path: str | os.PathLike) -> Iterator[Path]:
    """Hold ``path`` (symlinks followed) for this process: a second lock on it fails at once.

    Raises :class:`OutputFolderError` naming the other process and the lock file. The lock file
    ``.<name>.lock`` holds the PID and the process's boot id and start time; it is removed on
    exit, and one whose process has ended (even if its PID was reused since) is taken over.
    """
    path = resolve_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent / f".{path.name}{LOCK_SUFFIX}"
    handle = _take_lock(lock, path)
    with os.fdopen(handle, "w") as file:
        file.write(f"{os.getpid()}\n{_process_identity(os.getpid())}\n")
    try:
        yield path
    finally:
        owner = _owner(lock)
        if owner is not None and owner[0] == os.getpid():
            lock.unlink(missing_ok=True)


def remove_stale_partials(path: Path) -> None:
    """Delete temporary folders left beside ``path`` by saves that were killed."""
    for leftover in path.parent.glob(f".{path.name}{PARTIAL_MARK}*"):
        pid = leftover.name.rsplit(PARTIAL_MARK, 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _umask() -> int:
    """The process's umask (reading it means setting it; it is set straight back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; rename it to ``path`` if the block succeeds.

    ``path`` (symlinks followed) must not exist or be empty. The folder gets the mode of the
    empty folder it replaces, else ``0o777`` minus the umask, so others can read it as they can
    any folder (``mkdtemp`` alone would make it private). On an error the temporary folder is
    removed; if another process filled ``path`` meanwhile, :class:`OutputFolderError` and
    nothing is overwritten.
    """
    path = resolve_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    mode = path.stat().st_mode & 0o7777 if path.is_dir() else 0o777 & ~_umask()
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}{PARTIAL_MARK}{os.getpid()}-",
                                    dir=path.parent))
    try:
        yield scratch
        os.chmod(scratch, mode)
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


def fallback_folders(name: str) -> list[Path]:
    """New folders where a result that could not be saved where asked is kept instead: under
    the course cache (``COURSE_CACHE_DIR``), else the system's temporary folder."""
    from course_utils.paths import cache_dir

    stamp = f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    return [cache_dir() / "unsaved" / stamp,
            Path(tempfile.gettempdir()) / f"course-unsaved-{stamp}"]


def _reason(error: BaseException) -> str:
    """A failure in a few words: the OS's sentence for an OSError, else the error's text."""
    if isinstance(error, OutputFolderError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return f"{type(error).__name__}: {str(error)[:200]}"


def save_folder_or_keep_elsewhere(path: str | os.PathLike, write: Callable[[Path], object],
                                  need_bytes: int = 0) -> Path:
    """Write a folder with ``write(folder)`` to ``path`` atomically (:func:`atomic_folder`),
    after checking there is room for ``need_bytes``; return ``path``.

    If that fails (a full disk, a folder filled meanwhile, anything ``write`` raises), the result
    is written to the first :func:`fallback_folders` that takes it and
    :class:`ResultNotSavedError` says where (``kept_at``), so a finished run is never lost.
    """
    path = resolve_output(path)
    try:
        with atomic_folder(validate_free_space(path, need_bytes)) as scratch:
            write(scratch)
        return path
    except Exception as error:  # noqa: BLE001 - whatever went wrong, keep the result
        failure = f"{path} could not be written ({_reason(error)})"
    tried = []
    for fallback in fallback_folders(path.name):
        try:
            with atomic_folder(validate_free_space(fallback, need_bytes)) as scratch:
                write(scratch)
        except Exception as error:  # noqa: BLE001 - try the next place
            tried.append(f"{fallback.parent} ({_reason(error)})")
            continue
        raise ResultNotSavedError(
            f"{failure}. The result is kept in {fallback} instead; move it to {path} (or "
            "anywhere) once there is room: it loads from wherever it lies.", kept_at=fallback)
    raise ResultNotSavedError(
        f"{failure}, and could not be kept elsewhere either: {'; '.join(tried)}. Free some "
        "disk space and save again.")


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
        os.chmod(tmp_name, 0o666 & ~_umask())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
