# Entry points used by README.md and .ci/run:
#   make demo   - install fatopt alone into a venv (building the C extension) and run the demo under -X fatopt
#   make test   - install fatopt and its test extra into a venv and run the test suite
#   make bench  - the runtime micro-benchmarks (pyperf)
#   make lint   - ruff and mypy on fatopt/ (settings in pyproject.toml; tools from its lint group)
#   make install - fatopt with its test and bench extras (what the benchmark targets use)
# PYTHON picks the interpreter (CPython >= 3.12). By default: the newest python3.13/python3.12/
# python3/python on PATH that is CPython >= 3.12, else the newest pyenv version that is (pyenv's
# versions need not be on PATH, as .ci/run's find_python finds them); make says which it took.
# Each interpreter gets its own venv, .venv-X.Y.
PYENV_VERSIONS_DIR := $(or $(PYENV_ROOT),$(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)/versions
IS_CPYTHON_312 := import sys; sys.exit(sys.version_info < (3, 12) or sys.implementation.name != "cpython")
# The chosen interpreter's own path (sys.executable), so that a pyenv shim found on PATH is
# resolved once, here.
FIND_PYTHON := for p in python3.13 python3.12 python3 python \
        $$(ls -d $(PYENV_VERSIONS_DIR)/*/bin/python3.1[2-9] $(PYENV_VERSIONS_DIR)/*/bin/python3.[2-9][0-9] 2>/dev/null | sort -rV); do \
    $$p -c '$(IS_CPYTHON_312)' >/dev/null 2>&1 && { $$p -c 'import sys; print(sys.executable)'; break; }; done
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell $(FIND_PYTHON))
PYTHON_FROM := the newest on PATH or among pyenv's versions; choose with PYTHON=/path/to/python3.X
else
PYTHON_FROM := given
endif
ifneq ($(filter-out clean,$(or $(MAKECMDGOALS),demo)),)
ifeq ($(PYTHON),)
$(error no CPython >= 3.12 found on PATH or in $(PYENV_VERSIONS_DIR); run e.g. 'make test PYTHON=/path/to/python3.13')
endif
PYVERSION := $(shell $(PYTHON) -c '$(IS_CPYTHON_312)' 2>/dev/null && $(PYTHON) -c 'import sys; print(sys.version.split()[0])')
ifeq ($(PYVERSION),)
$(error PYTHON=$(PYTHON) is not CPython >= 3.12)
endif
$(info make: using $(PYTHON) (CPython $(PYVERSION), $(PYTHON_FROM)))
endif
PYVER = $(basename $(PYVERSION))
VENV ?= .venv-$(PYVER)
VPY = $(VENV)/bin/python

.PHONY: demo test install bench lint clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip 'setuptools>=77'
	touch $@

# fatopt itself, editable, its C extension built in place: again whenever a C file or the build
# configuration changes (Python files need nothing: the install is editable).
BUILD_INPUTS := setup.py pyproject.toml $(wildcard fatopt/*.c fatopt/_runtime/*.c fatopt/_runtime/*.h)
$(VENV)/.built: $(VENV)/.created $(BUILD_INPUTS)
	$(VPY) -m pip install -q --no-build-isolation -e .
	touch $@

# An extra's requirements (pyproject.toml's optional-dependencies), installed once, without
# building fatopt again: the demo needs none of them, the tests only "test".
$(VENV)/.extra-%: $(VENV)/.created pyproject.toml | $(VENV)/.built
	$(VPY) -c 'import sys, tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"][sys.argv[1]]))' $* > $@.txt
	$(VPY) -m pip install -q -r $@.txt
	touch $@

install: $(VENV)/.built $(VENV)/.extra-test $(VENV)/.extra-bench

demo: $(VENV)/.built
	$(VPY) -X fatopt examples/demo.py

test: $(VENV)/.built $(VENV)/.extra-test
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
