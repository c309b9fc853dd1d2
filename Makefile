# Short commands for "Why P, not Q?". Each target installs what it needs first.
#   make course   set up (if needed) and run every notebook headless -> build/
#   make test     set up (if needed) and run the whole test suite
#   make lab      open JupyterLab on your student copies (build/student/, no solutions)
# Run `make help` for the rest.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup lab-settings data course test test-fast lab instructor student bench experiments lint browser-deps clean check-python test-pythons

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

# Before pip: an unsupported Python stops here with one line (which versions work, how to get
# one) instead of a resolver error. The supported range is requires-python in pyproject.toml.
CHECK_PYTHON = msg=$$($(PYTHON) course_utils/python_support.py pyproject.toml 2>&1) || { \
	  case "$$msg" in *"not supported"*) echo "$$msg" ;; \
	  *) echo "$(PYTHON) could not run the version check ($$(echo "$$msg" | tail -n 1)): the course needs a Python in requires-python (pyproject.toml); install one and run \`make setup PYTHON=python3.X\`." ;; \
	  esac; exit 1; }

check-python:  ## check that $(PYTHON) is a Python the course supports (make setup does it too)
	@$(CHECK_PYTHON)

$(STAMP): pyproject.toml
	@test -x $(PY) || { $(CHECK_PYTHON) }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# JupyterLab's settings for the course (no "Jupyter news?" box, no update check), as the
# venv's overrides.json: they apply to `make lab`, `make instructor` and the browser test.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

setup: $(STAMP) data lab-settings  ## create .venv, install the course (CPU torch, bundled model), fetch data
	@$(PY) -m course_utils.cli.check_env

lab-settings: $(STAMP)  ## install the course's JupyterLab settings (assets/jupyterlab/overrides.json) into .venv
	@mkdir -p $(LAB_SETTINGS) && cp assets/jupyterlab/overrides.json $(LAB_SETTINGS)/overrides.json

data: $(STAMP)  ## fetch the VADER files for notebook 06 into .cache/ (once, online; then offline)
	@$(PY) -m course_utils.cli.vader fetch

course: $(STAMP) data  ## run every notebook in order; executed copies, HTML, timings in build/
	$(PY) -m course_utils.cli.notebooks course

student: $(STAMP)  ## write student copies (no solutions) to build/student/; keeps edited ones
	$(PY) -m course_utils.cli.notebooks student

browser-deps:  ## install Debian's chromium for the browser test (needs root; else the test skips)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the browser test will report it"; \
	else echo "note: chromium not found and not root; the browser smoke test will be skipped"; fi

test: $(STAMP) data browser-deps  ## run the whole test suite (unit tests, notebooks, browser)
	$(PY) -m pytest

test-fast: $(STAMP)  ## unit tests only: no notebooks, kernels or subprocesses (~1-2 min)
	$(PY) -m pytest tests -m "not slow and not process"

test-pythons:  ## fresh venv + fast tests + notebooks 02, 05 on each supported Python found (~1 h)
	$(PYTHON) tests/run_pythons.py

lint: $(STAMP)  ## ruff
	$(PY) -m ruff check course_utils tests benchmarks assets/data

lab: student lab-settings  ## open JupyterLab on the student copies in build/student/ (your work stays)
	$(VENV)/bin/jupyter lab build/student/

instructor: $(STAMP) lab-settings  ## open JupyterLab on notebooks/ (solutions collapsed, for teaching)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP) data  ## measure runtime, memory, training efficiency; rewrites docs/benchmarks.md
	$(PY) -m benchmarks.run_all

experiments: $(STAMP) data  ## train the 05/06 grids over 3 seeds (~20-25 min idle); rewrites assets/results/
	$(PY) -m benchmarks.experiments

clean:  ## remove build outputs and caches (keeps .venv, .cache/vader and your build/student/ work)
	rm -rf .pytest_cache
	@if [ -d build ]; then find build -mindepth 1 -maxdepth 1 ! -name student -exec rm -rf {} +; fi
	@if [ -d .cache ]; then find .cache -mindepth 1 -maxdepth 1 ! -name vader -exec rm -rf {} +; fi
