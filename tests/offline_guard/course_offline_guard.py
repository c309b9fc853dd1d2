"""A network guard for the test suite: only loopback connections are allowed.

The course promises to run offline. This guard proves it: once :func:`install` has run, every
attempt to reach an address outside the machine (anything but 127.0.0.0/8, ::1, ``localhost``
and Unix sockets) is refused with an ``OSError`` and written, one JSON line per attempt, to the
file named by the environment variable ``COURSE_OFFLINE_GUARD_LOG``. The test session reads that
file at the end and fails, listing the attempts, if it is not empty.

It wraps the Python entry points every HTTP client goes through: ``socket.socket.connect``,
``socket.socket.connect_ex``, ``socket.create_connection`` and ``socket.getaddrinfo``.
Libraries that talk through C sockets of their own (ZeroMQ for Jupyter kernels, gloo) are not
covered; they only use loopback in this course.

``sitecustomize.py`` next to this file installs the guard in every Python process started with
this folder on ``PYTHONPATH`` (tests/conftest.py puts it there), so notebook kernels started by
nbval and nbclient, servers and ``python -m ...`` subprocesses are guarded too.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
import time
import traceback

#: The environment variable naming the log file; the guard is installed only when it is set.
LOG_ENV = "COURSE_OFFLINE_GUARD_LOG"
MESSAGE = (
    "course offline guard: network access to {target} was refused; the course and its tests "
    "must run offline (only loopback is allowed). Use local files or the bundled model, and "
    "keep HF_HUB_OFFLINE=1."
)


class OfflineGuardError(ConnectionRefusedError):
    """A connection to an address outside loopback was attempted while the guard is on."""


def is_loopback_host(host: object) -> bool:
    """True for hosts that stay on this machine: localhost, 127.0.0.0/8, ::1, unspecified."""
    if host is None:
        return True  # getaddrinfo(None, port): a local (passive) address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().lower().rstrip(".")
    if name in ("", "localhost") or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False  # a host name other than localhost: resolving it may leave the machine
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_loopback or address.is_unspecified


def _caller() -> list[str]:
    """The innermost few frames outside this module and socket.py: who tried to connect."""
    frames = [
        f"{frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_stack()[:-2]
        if not frame.filename.endswith(("course_offline_guard.py", f"{os.sep}socket.py"))
    ]
    return frames[-4:]


def record(call: str, target: str) -> None:
    """Append one attempt to the log file (one JSON line; O_APPEND keeps lines whole)."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    entry = {
        "time": time.strftime("%H:%M:%S"),
        "pid": os.getpid(),
        "process": " ".join(sys.argv[:3])[:200],
        "call": call,
        "target": target,
        "stack": _caller(),
    }
    line = (json.dumps(entry) + "\n").encode("utf-8")
    try:
        handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(handle, line)
        finally:
            os.close(handle)
    except OSError:
        pass  # never break the program under test because the log is unwritable


def _validate_socket_address(sock: socket.socket, address: object, call: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # AF_UNIX, netlink, ...: local by construction
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback_host(host):
        target = f"{host}:{address[1]}" if isinstance(address, tuple) and len(address) > 1 \
            else str(host)
        record(call, target)
        raise OfflineGuardError(MESSAGE.format(target=target))


def install() -> bool:
    """Wrap the socket entry points (idempotent). Returns True if the guard was installed now."""
    if getattr(socket.socket.connect, "_course_offline_guard", False):
        return False
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_create_connection = socket.create_connection
    original_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        _validate_socket_address(self, address, "socket.connect")
        return original_connect(self, address)

    def connect_ex(self, address):
        _validate_socket_address(self, address, "socket.connect_ex")
        return original_connect_ex(self, address)

    def create_connection(address, *args, **kwargs):
        host = address[0] if isinstance(address, tuple) and address else address
        if not is_loopback_host(host):
            target = f"{host}:{address[1]}" if isinstance(address, tuple) else str(host)
            record("socket.create_connection", target)
            raise OfflineGuardError(MESSAGE.format(target=target))
        return original_create_connection(address, *args, **kwargs)

    def getaddrinfo(host, port, *args, **kwargs):
        if not is_loopback_host(host):
            record("socket.getaddrinfo", f"{host}:{port}")
            raise socket.gaierror(socket.EAI_NONAME, MESSAGE.format(target=host))
        return original_getaddrinfo(host, port, *args, **kwargs)

    for function in (connect, connect_ex, create_connection, getaddrinfo):
        function._course_offline_guard = True
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.create_connection = create_connection
    socket.getaddrinfo = getaddrinfo
    return True


def is_installed() -> bool:
    """Whether this process's sockets are guarded."""
    return bool(getattr(socket.socket.connect, "_course_offline_guard", False))


def read_attempts(path: str | os.PathLike) -> list[dict]:
    """The attempts logged in ``path`` (an empty list if the file is missing or empty)."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line for line in handle if line.strip()]
    except FileNotFoundError:
        return []
    attempts = []
    for line in lines:
        try:
            attempts.append(json.loads(line))
        except json.JSONDecodeError:
            attempts.append({"call": "?", "target": line.strip(), "stack": []})
    return attempts


def format_attempts(attempts: list[dict]) -> str:
    """A readable list of attempts for a test failure or the session summary."""
    lines = []
    for attempt in attempts:
        lines.append(
            f"- {attempt.get('call')} -> {attempt.get('target')} "
            f"(pid {attempt.get('pid')}: {attempt.get('process', '')})"
        )
        lines += [f"      at {frame}" for frame in attempt.get("stack", [])]
    return "\n".join(lines)
