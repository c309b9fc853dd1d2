"""``python -m course_utils.cli.check_env``: the environment check, one line per requirement.

Prints OK/FAIL for each requirement, with the fix for each FAIL (the checks live in
:mod:`course_utils.environment`, which notebook 00 calls); exits 0 when everything passed,
1 otherwise.
"""

from __future__ import annotations

import sys

from course_utils.environment import run_checks


def main() -> int:
    results = run_checks()
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
