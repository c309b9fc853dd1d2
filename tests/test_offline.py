"""Offline proof: the network guard is on here, in subprocesses and in notebook kernels.

tests/conftest.py turns the guard on for the whole session (see tests/offline_guard/). These
tests prove the guard itself works, so that a clean session really means "nothing tried to
reach the network": a connection outside loopback is refused and logged, loopback still works,
and a Jupyter kernel started by the tests has the guard loaded.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import course_offline_guard as guard  # registered by tests/conftest.py
import pytest

GUARD_DIR = Path(guard.__file__).resolve().parent
GUARD_LOG_ENV = guard.LOG_ENV

TEST_NET_ADDRESS = "192.0.2.1"  # TEST-NET-1 (RFC 5737): never routed, safe to "try"


def run_guarded(code: str, log_path, timeout: int = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python with the guard folder on PYTHONPATH and its own log."""
    env = dict(os.environ)
    env[GUARD_LOG_ENV] = str(log_path)
    env["PYTHONPATH"] = str(GUARD_DIR)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.mark.process
def test_guard_refuses_and_logs_outbound_connections_in_a_subprocess(tmp_path):
    log = tmp_path / "attempts.jsonl"
    result = run_guarded(f"""
        import socket, urllib.request
        outcomes = []
        try:
            socket.create_connection(("{TEST_NET_ADDRESS}", 80), timeout=2)
        except OSError as error:
            outcomes.append(("create_connection", type(error).__name__, str(error)))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.connect(("{TEST_NET_ADDRESS}", 443))
        except OSError as error:
            outcomes.append(("connect", type(error).__name__, str(error)))
        try:
            sock.connect_ex(("{TEST_NET_ADDRESS}", 443))
        except OSError as error:
            outcomes.append(("connect_ex", type(error).__name__, str(error)))
        sock.close()
        try:
            socket.getaddrinfo("huggingface.co", 443)
        except OSError as error:
            outcomes.append(("getaddrinfo", type(error).__name__, str(error)))
        try:
            urllib.request.urlopen("http://example.com/", timeout=2)
        except OSError as error:
            outcomes.append(("urlopen", type(error).__name__, str(error)))
        for outcome in outcomes:
            print(outcome)
    """, log)
    assert result.returncode == 0, result.stderr
    refused = [line for line in result.stdout.splitlines() if "offline guard" in line]
    assert len(refused) == 5, result.stdout
    attempts = [json.loads(line) for line in log.read_text().splitlines()]
    targets = [a["target"] for a in attempts]
    assert f"{TEST_NET_ADDRESS}:80" in targets and f"{TEST_NET_ADDRESS}:443" in targets
    assert "huggingface.co:443" in targets and any("example.com" in t for t in targets)
    assert {a["call"] for a in attempts} >= {
        "socket.create_connection", "socket.connect", "socket.connect_ex", "socket.getaddrinfo"
    }
    assert all(a["stack"] for a in attempts), "each attempt should say where it came from"


@pytest.mark.process
def test_guard_lets_loopback_through(tmp_path):
    log = tmp_path / "attempts.jsonl"
    result = run_guarded("""
        import socket, threading
        server = socket.create_server(("127.0.0.1", 0))
        port = server.getsockname()[1]
        threading.Thread(target=lambda: server.accept()[0].sendall(b"hi"), daemon=True).start()
        for host in ("127.0.0.1", "localhost"):
            with socket.create_connection((host, port), timeout=5) as client:
                if host == "127.0.0.1":
                    print(client.recv(2).decode())
        print(len(socket.getaddrinfo("localhost", port)) > 0)
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        print(unix.connect_ex("/nonexistent/socket") != 0)
    """, log)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["hi", "True", "True"]
    assert not log.exists() or not log.read_text().strip()


@pytest.mark.parametrize(
    ("host", "local"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True),
     ("LOCALHOST.", True), ("::ffff:127.0.0.1", True), ("0.0.0.0", True), (None, True),
     ("10.0.0.1", False), ("8.8.8.8", False), ("2001:db8::1", False),
     ("huggingface.co", False), ("pypi.org", False), (b"example.com", False), (42, False)],
)
def test_loopback_classification(host, local):
    assert guard.is_loopback_host(host) is local


def test_the_pytest_process_itself_is_guarded(tmp_path, monkeypatch):
    log = tmp_path / "attempts.jsonl"
    monkeypatch.setenv(GUARD_LOG_ENV, str(log))  # keep this deliberate attempt out of the run
    assert guard.is_installed()
    with pytest.raises(OSError, match="offline guard"):
        socket.create_connection((TEST_NET_ADDRESS, 80), timeout=1)
    with pytest.raises(socket.gaierror, match="offline guard"):
        socket.getaddrinfo("example.org", 80)
    assert len(log.read_text().splitlines()) == 2


@pytest.mark.process
def test_child_processes_inherit_the_guard():
    assert str(GUARD_DIR) in os.environ["PYTHONPATH"].split(os.pathsep)
    assert os.environ.get(GUARD_LOG_ENV)
    probe = "import socket; print(getattr(socket.socket.connect, '_course_offline_guard', False))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "True", result.stderr


@pytest.mark.process
def test_a_jupyter_kernel_has_the_guard_loaded():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=120)
    lines: list[str] = []

    def keep_stdout(message):
        if message["msg_type"] == "stream":
            lines.append(message["content"]["text"])

    try:
        client.execute_interactive(
            "import socket, sys\n"
            "print(getattr(socket.socket.connect, '_course_offline_guard', False), "
            "'course_offline_guard' in sys.modules)",
            output_hook=keep_stdout, timeout=60,
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert "".join(lines).split() == ["True", "True"], lines


def test_the_session_log_is_empty_so_far():
    """Nothing before this test (alphabetically: checks, data, ...) tried to go online."""
    attempts = guard.read_attempts(os.environ[GUARD_LOG_ENV])
    assert not attempts, guard.format_attempts(attempts)
