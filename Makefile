# Entry points used by README.md and .ci/run:
#   make demo   - install into a venv (building the C extension) and run the demo under -X fatopt
#   make test   - install into a venv (building the C extension) and run the test suite
#   make bench  - the runtime micro-benchmarks (pyperf)
#   make lint   - ruff and mypy on fatopt/ (settings in pyproject.toml; tools from its lint group)
# PYTHON picks the interpreter (CPython >= 3.12); by default the newest one found on PATH.
# Each interpreter gets its own venv, .venv-X.Y.
FIND_PYTHON := for p in python3.13 python3.12 python3 python; do \
    $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done
PYTHON ?= $(shell $(FIND_PYTHON))
ifeq ($(PYTHON),)
$(error no Python >= 3.12 found on PATH; run e.g. 'make test PYTHON=/path/to/python3.13')
endif
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV ?= .venv-$(PYVER)
VPY := $(VENV)/bin/python

.PHONY: demo test install bench lint clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip 'setuptools>=77'
	touch $@

# Re-run every time so an edited _guards.c is rebuilt.
install: $(VENV)/.created
	$(VPY) -m pip install -q --no-build-isolation -e '.[test,bench]'

demo: install
	$(VPY) -X fatopt examples/demo.py

test: install
	$(VPY) -m pytest $(PYTEST_ARGS)

bench: install
	$(VPY) benchmarks/bench_runtime.py $(BENCH_ARGS)

# Needs no build of the project. mypy runs once per supported version (typeshed's ast and types
# differ between them); ruff's result does not depend on the interpreter.
LINT_PYTHON_VERSIONS := 3.12 3.13
lint: $(VENV)/.created
	$(VPY) -m pip install -q --group lint
	$(VPY) -m ruff check fatopt
	for v in $(LINT_PYTHON_VERSIONS); do $(VPY) -m mypy --python-version $$v || exit 1; done

clean:
	rm -rf build .venv-* fatopt/*.so *.egg-info .mypy_cache .ruff_cache

# Benchmark harness (docs/benchmarks.md): plain vs fatopt vs hand-written floor, and
# pyperformance's scripts plain vs fatopt. BENCH_ARGS=--fast for a quick, noisy run.
.PHONY: bench-micro bench-pyperformance
bench-micro: install
	$(VPY) benchmarks/micro/run.py $(BENCH_ARGS)

bench-pyperformance: install
	$(VPY) benchmarks/pyperformance/run.py $(BENCH_ARGS)
