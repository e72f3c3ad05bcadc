# needskit: two commands on a fresh machine.
#   make demo   set up .venv (if needed) and run the main job on the shipped example data
#   make test   set up / update .venv and run every test
# Nothing else is needed: no manual apt step, no network at run time.
#   make lab    JupyterLab in notebooks/ with the project kernel; make lint  ruff + mypy

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.needskit-installed
SHARED ?= ../shared/data/raw

.PHONY: help install demo test lab data-build lint bench clean

help:
	@echo "make demo | make test | make lab | make data-build | make lint | make bench"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the project's declared dependencies or the pinned versions change.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name needskit --display-name "Python (needskit)" >/dev/null
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/needskit demo

test: $(STAMP)
	$(PY) -m pytest

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

# Rebuild data/raw from the project's shared raw-data folder (maintainers only; not needed to run).
data-build: $(STAMP)
	$(VENV)/bin/needskit data build --from $(SHARED) --to data/raw

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/pool_points.py

clean:
	rm -rf data/processed data/published reports/_failed reports/.tmp
