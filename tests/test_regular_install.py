"""A regular install (a wheel: JupyterHub, Colab, a laptop without git) works without the checkout.

Fast checks: where the course's files and caches are in each situation, the wheel's package
list and package data against the repository, the notebooks' setup cell and the README's Colab
links against the one recorded course URL, and the notebook-copy command.

The slow check (``slow`` and ``process``, so ``make test-fast`` leaves it out) does what a hub
does: builds the wheel from the repository's files, installs it without dependencies into a
fresh virtual environment outside the repository (the dependencies come from this environment
through a ``.pth`` line, so nothing is downloaded, and the repository is not on its path),
makes the installed package read-only, writes the student copies into an empty folder with
``python -m course_utils.cli.notebooks student DEST`` and executes notebooks 02 and 05 from
there in that environment's kernel, in a third working folder, with the network guard on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import GUARD_DIR, notebook_kernel_env

from course_utils import paths
from course_utils.cli import notebooks as notebook_tools
from course_utils.paths import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
COURSE_URL = PYPROJECT["project"]["urls"]["Repository"]
#: What the notebooks read from assets/ (relative to it); the wheel must carry each.
NEEDED_ASSETS = ("data/course_reviews.csv", "data/DATA_CARD.md", "data/VADER_DATA_CARD.md",
                 "results/experiments.csv", "results/README.md", "course.mplstyle")
#: Files this module's wheel build copies (what setuptools reads to build the wheel).
BUILD_INPUTS = ("course_utils", "assets", "notebooks", "pyproject.toml", "README.md", "LICENSE")


# ------------------------------------------------------------------ where files and caches are


def test_a_checkout_reads_the_repository_folders():
    assert paths.in_checkout()
    assert paths.course_files_root() == REPO_ROOT
    assert paths.NOTEBOOK_DIR == REPO_ROOT / "notebooks"


def test_an_installed_package_reads_its_own_copies(monkeypatch):
    monkeypatch.setattr(paths, "in_checkout", lambda: False)
    monkeypatch.delenv("COURSE_ASSETS_DIR", raising=False)
    package = Path(paths.__file__).resolve().parent
    assert paths.course_files_root() == package
    assert paths.assets_dir() == package / "assets"
    assert paths.default_build_dir() == Path.cwd() / "build"


@pytest.mark.parametrize(("platform", "env", "expected"), [
    ("linux", {"XDG_CACHE_HOME": "/xdg"}, "/xdg/why-p-not-q"),
    ("linux", {"XDG_CACHE_HOME": "relative/ignored"}, "~/.cache/why-p-not-q"),
    ("linux", {}, "~/.cache/why-p-not-q"),
    ("darwin", {"XDG_CACHE_HOME": "/xdg"}, "~/Library/Caches/why-p-not-q"),
    ("win32", {"LOCALAPPDATA": "/appdata"}, "/appdata/why-p-not-q/Cache"),
])
def test_the_per_user_cache_follows_the_platform(monkeypatch, platform, env, expected):
    for name in ("XDG_CACHE_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "platform", platform)
    assert paths.user_cache_dir() == Path(expected).expanduser()


def test_the_cache_is_per_user_when_installed_or_the_checkout_is_read_only(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(sys, "platform", "linux")
    per_user = tmp_path / "xdg" / "why-p-not-q"
    monkeypatch.setattr(paths, "_writable", lambda folder: True)
    assert paths.cache_dir() == REPO_ROOT / ".cache"  # a checkout you can write to
    monkeypatch.setattr(paths, "_writable", lambda folder: False)
    assert paths.cache_dir() == per_user  # a read-only checkout (a hub)
    monkeypatch.setattr(paths, "_writable", lambda folder: True)
    monkeypatch.setattr(paths, "in_checkout", lambda: False)
    assert paths.cache_dir() == per_user  # installed: never beside the package
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "mine"))
    assert paths.cache_dir() == tmp_path / "mine"  # the variable still wins


def test_writable_looks_at_the_nearest_existing_folder(tmp_path):
    assert paths._writable(tmp_path / "not" / "yet")
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            assert not paths._writable(locked / "cache")
        finally:
            locked.chmod(stat.S_IRWXU)


def test_a_shared_vader_folder_can_be_named(monkeypatch, tmp_path):
    from course_utils.vader_files import vader_dir

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    assert vader_dir() == tmp_path / "cache" / "vader"
    monkeypatch.setenv("COURSE_VADER_DIR", str(tmp_path / "shared"))
    assert vader_dir() == tmp_path / "shared"


def test_the_missing_dataset_message_covers_a_checkout_and_an_installed_package(monkeypatch,
                                                                                 tmp_path):
    from course_utils.data import load_course_data

    monkeypatch.setenv("COURSE_ASSETS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError) as error:
        load_course_data()
    message = str(error.value)
    assert "git checkout -- assets/data" in message
    assert "pip install --force-reinstall" in message


# ------------------------------------------------------------------ the wheel's contents


def test_the_package_list_names_every_package_folder():
    from setuptools import find_packages

    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set(find_packages(where=str(REPO_ROOT), include=["course_utils*"]))
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert mapped == {"course_utils.assets": "assets", "course_utils.notebooks": "notebooks"}
    data_packages = {name for name in listed
                     if name.startswith(("course_utils.assets", "course_utils.notebooks"))}
    assert listed - found == data_packages


def _package_data_files() -> set[str]:
    """The repository files pyproject's package-data selects, as paths inside the wheel."""
    config = PYPROJECT["tool"]["setuptools"]
    selected = set()
    for package, patterns in config["package-data"].items():
        _, top, *sub = package.split(".")  # course_utils.assets.data -> assets, [data]
        root = REPO_ROOT / config["package-dir"][f"course_utils.{top}"]
        for pattern in patterns:
            for path in root.joinpath(*sub).glob(pattern):
                selected.add(f"course_utils/{top}/{path.relative_to(root).as_posix()}")
    return selected


def test_package_data_selects_what_the_notebooks_read():
    selected = _package_data_files()
    needed = {f"course_utils/assets/{name}" for name in NEEDED_ASSETS}
    needed |= {f"course_utils/notebooks/{p.name}" for p in paths.course_notebooks()}
    assert needed <= selected, f"not in the wheel: {sorted(needed - selected)}"


# ------------------------------------------------------------------ Colab: setup cell, links


def setup_cell(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return next(c.source for c in notebook.cells if c.cell_type == "code")


def test_every_setup_cell_opens_with_the_same_install_hint():
    heads = {path.name: setup_cell(path).split("cu.setup()")[0]
             for path in paths.course_notebooks()}
    assert len(set(heads.values())) == 1, "the setup cells differ before cu.setup()"
    head = next(iter(heads.values()))
    assert f"%pip install git+{COURSE_URL}" in head


def test_the_setup_cell_says_the_install_line_when_course_utils_is_missing(monkeypatch):
    head = setup_cell(paths.course_notebooks()[0]).split("cu.setup()")[0]
    monkeypatch.setitem(sys.modules, "course_utils", None)  # import now fails as if missing
    with pytest.raises(SystemExit) as stop:
        exec(compile(head, "setup cell", "exec"), {})
    assert str(stop.value).splitlines()[-1] == f"%pip install git+{COURSE_URL}"


def test_the_readme_links_every_notebook_to_colab():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    owner_repo = COURSE_URL.removeprefix("https://github.com/")
    for path in paths.course_notebooks():
        link = (f"https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/"
                f"{path.name}")
        assert link in readme, f"README: no Colab link for {path.name}"


# ------------------------------------------------------------------ the notebook-copy command


def test_student_dest_writes_the_copies_there_and_instructor_copies_beside(tmp_path, capsys):
    dest = tmp_path / "course"
    assert notebook_tools.main(["student", str(dest), "--instructor"]) == 0
    names = [p.name for p in paths.course_notebooks()]
    assert sorted(p.name for p in dest.glob("*.ipynb")) == names
    assert sorted(p.name for p in (dest / "instructor").glob("*.ipynb")) == names
    student = nbformat.read(dest / names[1], as_version=4)
    assert not [c for c in student.cells if "solution" in c.metadata.get("tags", [])]
    first = dest / "instructor" / names[1]
    assert first.read_bytes() == (paths.NOTEBOOK_DIR / names[1]).read_bytes()
    first.write_text("{}", encoding="utf-8")  # an instructor's edit is kept on a re-run
    assert notebook_tools.main(["student", str(dest), "--instructor"]) == 0
    assert first.read_text(encoding="utf-8") == "{}"
    assert "Kept" in capsys.readouterr().out


def test_instructor_needs_dest(capsys):
    with pytest.raises(SystemExit):
        notebook_tools.main(["student", "--instructor"])
    assert "--instructor needs DEST" in capsys.readouterr().err


# ------------------------------------------------------------------ the real thing


def build_wheel(tmp: Path) -> Path:
    """The course wheel, built from a copy of the repository's build inputs (no build files
    land in the checkout) with this environment's setuptools (no download)."""
    source = tmp / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".cache", "*.egg-info")
    for name in BUILD_INPUTS:
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=ignore)
        else:
            shutil.copy2(origin, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "--quiet", "-w", str(tmp / "dist"), str(source)],
                   check=True, timeout=300, capture_output=True, text=True)
    (wheel,) = (tmp / "dist").glob("course_utils-*.whl")
    return wheel


def fresh_environment(tmp: Path, wheel: Path) -> tuple[Path, Path]:
    """A venv with only the wheel installed (pip --target, no dependencies); this
    environment's site-packages appended by a .pth line, whose own .pth files (the checkout's
    editable finder among them) are not processed. Returns (python, installed package)."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                    "--quiet", "--target", str(site), str(wheel)], check=True, timeout=300)
    (site / "zz_course_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, site / "course_utils"


def listing(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` (bytecode caches aside) and its size."""
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def set_read_only(folder: Path, read_only: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222 if read_only else mode | stat.S_IWUSR)


#: Run by the fresh environment's Python: execute the notebooks in a kernel of that Python,
#: each cell in turn, and report which cells failed and what the kernel saw.
DRIVER = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    import nbformat
    from course_utils.cli.notebooks import execute_code_cells, notebook_client

    dest, workdir, names = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    probe = ("import json, os, sys, course_utils\\n"
             "print('PROBE' + json.dumps({'file': course_utils.__file__, "
             "'cache': str(course_utils.paths.cache_dir()), 'python': sys.executable, "
             "'numba': os.environ.get('NUMBA_CACHE_DIR'), 'cwd': os.getcwd()}))")
    report = {}
    for name in names:
        notebook = nbformat.read(dest / name, as_version=4)
        notebook.cells.append(nbformat.v4.new_code_cell(probe))
        client = notebook_client(notebook, workdir, timeout=1200, startup_timeout=120,
                                 widget_comms=False)
        entry = {"error": None, "ran": 0, "probe": None}
        with client.setup_kernel():
            try:
                for _, cell in execute_code_cells(client, notebook):
                    entry["ran"] += 1
            except Exception as error:
                entry["error"] = str(error)[-3000:]
        entry["cells"] = sum(c.cell_type == "code" for c in notebook.cells)
        for output in notebook.cells[-1].get("outputs", []):
            if output.get("text", "").startswith("PROBE"):
                entry["probe"] = json.loads(output["text"][5:])
        report[name] = entry
    print("REPORT" + json.dumps(report))
""")


@pytest.mark.slow
@pytest.mark.process
@pytest.mark.timeout(2400)
def test_an_installed_wheel_runs_notebooks_02_and_05_from_a_folder_of_copies(tmp_path):
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        inside = set(archive.namelist())
        for name in _package_data_files():  # the wheel's copies are the repository's files
            assert name in inside, f"{name} is not in {wheel.name}"
        csv = archive.read("course_utils/assets/data/course_reviews.csv")
    assert csv == (REPO_ROOT / "assets/data/course_reviews.csv").read_bytes()
    print(f"{wheel.name}: {wheel.stat().st_size / 1024:.0f} KiB")

    python, package = fresh_environment(tmp_path, wheel)
    dest, workdir, user_cache = tmp_path / "my-course", tmp_path / "elsewhere", tmp_path / "xdg"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COURSE_ASSETS", "COURSE_CACHE", "COURSE_BUILD", "COURSE_VADER",
                                "COURSE_STRICT", "NUMBA_CACHE", "VIRTUAL_ENV"))}
    env = notebook_kernel_env({**env, "PYTHONPATH": str(GUARD_DIR), "XDG_CACHE_HOME":
                               str(user_cache), "PYTHONDONTWRITEBYTECODE": "1"})
    before = listing(package)
    set_read_only(package, True)
    try:
        copied = subprocess.run([str(python), "-m", "course_utils.cli.notebooks", "student",
                                 str(dest)], cwd=workdir, env=env, capture_output=True,
                                text=True, timeout=300)
        assert copied.returncode == 0, copied.stderr
        assert sorted(p.name for p in dest.glob("*.ipynb")) == sorted(
            p.name for p in paths.course_notebooks())
        names = [p.name for p in paths.course_notebooks() if p.name[:2] in ("02", "05")]
        driver = tmp_path / "driver.py"
        driver.write_text(DRIVER, encoding="utf-8")
        result = subprocess.run([str(python), str(driver), str(dest), str(workdir), *names],
                                cwd=workdir, env=env, capture_output=True, text=True,
                                timeout=2200)
    finally:
        set_read_only(package, False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(re.search(r"^REPORT(.*)$", result.stdout, re.MULTILINE).group(1))
    for name, entry in report.items():
        assert entry["error"] is None, f"{name}: {entry['error']}"
        assert entry["ran"] == entry["cells"], entry
        probe = entry["probe"]
        assert Path(probe["file"]).resolve().is_relative_to(package.parent.resolve()), probe
        assert Path(probe["python"]).parent == python.parent, probe
        assert Path(probe["cwd"]).resolve() == workdir.resolve(), probe
        assert probe["cache"] == str(user_cache / "why-p-not-q"), probe
        assert probe["numba"] == str(user_cache / "why-p-not-q" / "numba"), probe
    assert listing(package) == before, "something was written inside the installed package"
    assert (user_cache / "why-p-not-q" / "embeddings").is_dir()
