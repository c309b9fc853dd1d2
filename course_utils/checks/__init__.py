"""Exercise checkers: friendly pass/fail with a specific hint, never a crash.

Every checker returns a :class:`CheckResult` (shown as a green "Correct" or an orange
"Not yet" box with a hint) and never raises, whatever the learner passes: a wrong value, the
wrong shape, ``None``, or a function that raises. Notebook-specific checkers live in the
``nbNN`` modules next to this file, imported with the package (in strict mode,
``COURSE_STRICT_CHECKS=1``, a "Not yet" raises :class:`StrictCheckError` instead; CI runs the
solution notebooks that way)::

    from course_utils.checks import nb01
    nb01.check_discriminating_features(my_answer)
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
