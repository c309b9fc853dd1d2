"""Exercise checkers: friendly pass/fail with a specific hint, never a crash.

Every checker returns a :class:`CheckResult` and never raises, whatever the learner passes;
in strict mode (``COURSE_STRICT_CHECKS=1``, CI's solution runs) a "Not yet" raises
:class:`StrictCheckError`. Notebook-specific checkers live in the ``nbNN`` modules, e.g.
``from course_utils.checks import nb01``.
"""

from course_utils.checks import nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08
from course_utils.checks.core import (
    STRICT_ENV,
    CheckResult,
    StrictCheckError,
    check_array,
    check_callable,
    check_choice,
    check_number,
    checker,
    fail,
    ok,
    strict_mode,
)

__all__ = [
    "nb01", "nb02", "nb03", "nb04", "nb05", "nb06", "nb07", "nb08",
    "STRICT_ENV",
    "CheckResult",
    "StrictCheckError",
    "check_array",
    "check_callable",
    "check_choice",
    "check_number",
    "checker",
    "fail",
    "ok",
    "strict_mode",
]
