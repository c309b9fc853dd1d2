"""Which Python versions the course supports, read from ``requires-python`` in pyproject.toml.

``make setup`` runs this file as a script *before* pip (``python course_utils/python_support.py
pyproject.toml``) and it exits 1 with advice on an unsupported version. So: standard library
only, TOML read with a regular expression, runs on Python 3.7+.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_SPEC_LINE = re.compile(r'^requires-python\s*=\s*"([^"]+)"', re.MULTILINE)
_BOUND = re.compile(r"^(>=|<)\s*3\.(\d+)$")


def supported_minors(spec: str) -> range:
    """The Python 3 minor versions a ``requires-python`` spec allows: ``">=3.11,<3.14"`` gives
    ``range(11, 14)``. Only that form (a lower and an upper bound on 3.x) is accepted, so a
    spec this function cannot read fails loudly instead of being misread."""
    bounds = {}
    for part in spec.split(","):
        match = _BOUND.match(part.strip())
        if not match:
            raise ValueError(f"cannot read requires-python {spec!r}: write it as '>=3.X,<3.Y'")
        bounds[match.group(1)] = int(match.group(2))
    if set(bounds) != {">=", "<"} or bounds[">="] >= bounds["<"]:
        raise ValueError(f"requires-python {spec!r} needs a lower and a higher upper bound, "
                         "as in '>=3.X,<3.Y'")
    return range(bounds[">="], bounds["<"])


def describe(minors: range) -> str:
    """``range(11, 14)`` -> ``"3.11, 3.12 or 3.13"``."""
    names = [f"3.{minor}" for minor in minors]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def spec_from_pyproject(path: Path) -> str:
    """The ``requires-python`` string of a pyproject.toml (read without tomllib)."""
    match = _SPEC_LINE.search(Path(path).read_text(encoding="utf-8"))
    if not match:
        raise ValueError(f"{path} has no requires-python line")
    return match.group(1)


def how_to_get_one(minors: range) -> str:
    """Where to get a supported Python, and how to point ``make setup`` at it."""
    newest = f"3.{minors[-1]}"
    return (f"Install one (python.org, `brew install python@{newest}`, `pyenv install {newest}` "
            f"or `apt install python{newest}-venv`), then run `make setup PYTHON=python{newest}`.")


def verdict(version: tuple[int, ...], spec: str) -> tuple[bool, str]:
    """Whether a Python ``version`` (``sys.version_info``-like) is supported, and one line
    that says so; when it is not, the line names the versions that work and how to get one."""
    minors = supported_minors(spec)
    here = ".".join(map(str, version[:3]))
    if version[0] == 3 and version[1] in minors:
        return True, f"Python {here} (supported: {describe(minors)})"
    return False, (f"Python {here} is not supported: the course works on Python "
                   f"{describe(minors)}. {how_to_get_one(minors)}")


def main(argv: list[str]) -> int:
    """Script entry: ``python python_support.py [pyproject.toml]``; exit 1 when unsupported."""
    pyproject = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent.parent / "pyproject.toml"
    supported, line = verdict(tuple(sys.version_info), spec_from_pyproject(pyproject))
    if not supported:
        print(f"{sys.executable}: {line}", file=sys.stderr)
    return 0 if supported else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
