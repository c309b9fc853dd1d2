"""Environment check: OK/FAIL per requirement, each FAIL with the fix (notebook 00,
``python -m course_utils.cli.check_env``). The pins come from the installed package's metadata
(pyproject.toml): Python version, every ``==`` pin, torch, the bundled model and the dataset.
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import re
import shlex
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from course_utils.paths import REPO_ROOT
from course_utils.python_support import (
    describe,
    how_to_get_one,
    spec_from_pyproject,
    supported_minors,
)

#: The installed distribution whose metadata holds the pins (pyproject.toml's dependencies).
COURSE_DIST = "course_utils"
FIX_INSTALL = ("run `make setup` in the course folder (or `pip install -e .` there; installed "
               "as a package: `pip install` it again), then restart.")
#: ``name==version`` with an optional marker (``; extra == "dev"``), as pip writes Requires-Dist.
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)\s*(?:;\s*(.*))?$")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class Requirement:
    name: str
    passed: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        status = "OK  " if self.passed else "FAIL"
        text = f"[{status}] {self.name}: {self.detail}"
        return text if self.passed else f"{text}\n        -> {self.fix}"


@dataclass(frozen=True)
class Pin:
    """One exact pin of the course package: ``numba==0.68.1``; ``extra`` is e.g. ``"dev"``."""

    name: str
    version: str
    extra: str | None = None


def parse_pins(requires: Iterable[str]) -> list[Pin]:
    """Read ``Requires-Dist`` strings into pins; anything but an exact ``==`` pin raises, so a
    loose requirement is never silently skipped."""
    pins = []
    for text in requires:
        match = _PIN.match(text)
        if not match:
            raise ValueError(f"{COURSE_DIST} requirement {text!r} is not an exact `name==version`"
                             " pin; pin it in pyproject.toml")
        extra = _EXTRA.search(match.group(3) or "")
        pins.append(Pin(match.group(1), match.group(2), extra.group(1) if extra else None))
    return pins


def installed_pins() -> list[Pin]:
    """The pins of the installed course package, from its metadata (pyproject.toml at install
    time). Raises ``PackageNotFoundError`` when the course package is not installed."""
    return parse_pins(metadata.requires(COURSE_DIST) or [])


def pip_install_command(pin: Pin, reinstall: bool = False) -> str:
    """The exact command that installs ``pin`` into this Python's environment."""
    force = "--force-reinstall " if reinstall else ""
    return f"{shlex.quote(sys.executable)} -m pip install {force}\"{pin.name}=={pin.version}\""


def _same_version(installed: str, pinned: str) -> bool:
    """``2.13.0+cpu`` satisfies ``==2.13.0``: a local label (the build) is not compared."""
    return installed.split("+")[0] == pinned.split("+")[0]


def _import_name(dist: str) -> str | None:
    """The module a distribution installs (``umap-learn`` -> ``umap``), from its metadata."""
    try:
        distribution = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return None
    guess = re.sub(r"[-.]+", "_", dist).lower()
    top_level = (distribution.read_text("top_level.txt") or "").split()
    files = distribution.files or []
    packages = sorted({f.parts[0] for f in files if len(f.parts) > 1 and f.name == "__init__.py"})
    names = top_level + [p for p in packages if p not in top_level]
    if guess in names or not names:
        return guess
    return next((n for n in names if not n.startswith("_")), None)


def check_pin(pin: Pin, find_module: bool = True) -> Requirement:
    """Installed, the pinned version, and (``find_module``) its module where Python looks.

    Located, not imported: importing every pinned package costs minutes on a busy machine.
    """
    label = pin.name if pin.extra is None else f"{pin.name} [{pin.extra}]"
    fix = f"run `{pip_install_command(pin)}`, then restart the kernel."
    try:
        version = metadata.version(pin.name)
    except metadata.PackageNotFoundError:
        return Requirement(label, False, f"not installed ({pin.version} pinned)", fix)
    if not _same_version(version, pin.version):
        return Requirement(label, False, f"{version} installed, {pin.version} pinned", fix)
    module = _import_name(pin.name) if find_module else None
    if module and not _module_found(module):
        return Requirement(label, False, f"{version} installed but its module `{module}` is "
                           "missing", f"run `{pip_install_command(pin, reinstall=True)}`.")
    return Requirement(label, True, version)


def _module_found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_pins(pins: list[Pin]) -> list[Requirement]:
    """One result per pin: every runtime pin; an extra's pins (dev tools) only when installed,
    since a student may install the course without them."""
    results = []
    for pin in pins:
        if pin.extra is not None and not _is_installed(pin.name):
            continue
        results.append(check_pin(pin, find_module=pin.extra is None))
    return results


def _is_installed(dist: str) -> bool:
    try:
        metadata.version(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


def requires_python() -> str:
    """The supported range: the installed package's Requires-Python, else pyproject.toml's."""
    try:
        spec = metadata.metadata(COURSE_DIST)["Requires-Python"]
    except metadata.PackageNotFoundError:
        spec = None
    return spec or spec_from_pyproject(REPO_ROOT / "pyproject.toml")


def check_python(version: tuple[int, ...] | None = None, spec: str | None = None) -> Requirement:
    """This Python's version against the supported range (``requires-python``)."""
    version = tuple(sys.version_info) if version is None else version
    minors = supported_minors(spec or requires_python())
    here = ".".join(map(str, version[:3]))
    if version[0] == 3 and version[1] in minors:
        return Requirement("python", True, f"{here} (supported: {describe(minors)})")
    return Requirement("python", False,
                       f"{here} is not supported: the course works on Python {describe(minors)}",
                       how_to_get_one(minors))


def check_course_pins() -> list[Requirement]:
    """Every pin of the installed course package, or one FAIL when it is not installed."""
    try:
        pins = installed_pins()
    except metadata.PackageNotFoundError:
        command = f"{shlex.quote(sys.executable)} -m pip install -e {shlex.quote(str(REPO_ROOT))}"
        return [Requirement(COURSE_DIST, False, "not installed, so its pins are unknown",
                            f"run `make setup` in the course folder (or `{command}`).")]
    return check_pins(pins)


def check_torch_cpu_build() -> Requirement:
    try:
        import torch
    except ImportError:
        return Requirement("torch build", False, "torch missing", FIX_INSTALL)
    cuda = torch.version.cuda
    detail = f"{torch.__version__} ({'CUDA ' + cuda if cuda else 'CPU build'})"
    return Requirement("torch build", True, detail)


#: What to do about a wrong course variable (COURSE_THREADS, COURSE_PRECISION).
FIX_VARIABLE = ("change or unset it where you start Jupyter or the shell (then restart the "
                "kernel), and run this check again.")


def check_threads() -> Requirement:
    """The torch threads ``cu.setup()`` will use, or a FAIL for a ``COURSE_THREADS`` that
    setup() would refuse (it used to pass here and fail only in the first notebook)."""
    from course_utils.notebook_setup import MAX_THREADS, choose_threads, threads_setting

    try:
        from_env = threads_setting()
    except ValueError as error:
        return Requirement("threads", False, str(error), FIX_VARIABLE)
    how = ("COURSE_THREADS" if from_env is not None
           else f"the CPUs this process may use, at most {MAX_THREADS}")
    return Requirement("threads", True, f"{choose_threads()} torch threads ({how})")


def _bf16_hardware() -> str | None:
    """Which part of this machine computes bfloat16 natively, in words; None if none does
    (the detection of :func:`course_utils.notebook_setup.native_bf16`, named)."""
    import torch

    if torch.cuda.is_available():
        return "the GPU supports it" if torch.cuda.is_bf16_supported() else None
    features = {"_is_avx512_bf16_supported": "CPU has avx512_bf16",
                "_is_amx_tile_supported": "CPU has AMX"}
    return next((words for name, words in features.items()
                 if getattr(torch.cpu, name, lambda: False)()), None)


def check_precision() -> Requirement:
    """Which precision training will use (``COURSE_PRECISION``: auto, float32 or bf16), or a
    FAIL with :func:`course_utils.notebook_setup.precision_setting`'s message for a wrong value."""
    from course_utils.notebook_setup import precision_setting, use_bf16

    try:
        setting = precision_setting()
    except ValueError as error:
        return Requirement("training precision", False, str(error), FIX_VARIABLE)
    hardware = _bf16_hardware()
    if not use_bf16():
        why = ("COURSE_PRECISION=float32" if setting == "float32"
               else "no native bfloat16 on this machine")
        return Requirement("training precision", True, f"float32 ({why})")
    if hardware is None:  # forced on a machine that emulates it
        return Requirement("training precision", True, "bfloat16 (COURSE_PRECISION=bf16; "
                           "emulated on this machine, so slower than float32)")
    forced = "; COURSE_PRECISION=bf16" if setting == "bf16" else ""
    return Requirement("training precision", True, f"bfloat16 ({hardware}{forced})")


def check_model() -> Requirement:
    try:
        from course_utils.embedding import encode
        from course_utils.models import load_model

        model = load_model()
        vectors = encode(["Why P, not Q?"], model, cache=False)
    except Exception as error:
        return Requirement("bundled model", False, str(error).splitlines()[0], FIX_INSTALL)
    return Requirement("bundled model", True,
                       f"all-MiniLM-L6-v2 loads offline, embedding size {vectors.shape[1]}")


def check_dataset() -> Requirement:
    try:
        from course_utils.data import load_course_data

        frame = load_course_data()
    except Exception as error:
        from course_utils.paths import restore_advice

        return Requirement("course dataset", False, str(error).splitlines()[0],
                           restore_advice("assets/data"))
    counts = frame["split"].value_counts().to_dict()
    return Requirement("course dataset", True,
                       f"{len(frame)} rows (train {counts.get('train', 0)}, "
                       f"test {counts.get('test', 0)})")


def run_checks(verbose: bool = True) -> list[Requirement]:
    """Run every check, print one line each (with the fix on FAIL); return the results."""
    from course_utils.notebook_setup import apply_quiet_offline_env

    apply_quiet_offline_env()
    steps: list[Callable[[], Requirement | list[Requirement]]] = [
        check_python, check_course_pins, check_torch_cpu_build, check_threads, check_precision,
        check_model, check_dataset]
    results: list[Requirement] = []
    for step in steps:
        found = step()
        for result in found if isinstance(found, list) else [found]:
            results.append(result)
            if verbose:
                print(result.line(), flush=True)
    if verbose:
        failed = [r.name for r in results if not r.passed]
        print("\nAll checks passed: you are ready for the course." if not failed
              else f"\n{len(failed)} check(s) failed: {', '.join(failed)}. Fix them, then re-run.")
    return results

