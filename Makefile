# Two entry points, used by README.md and .ci/run:
#   make demo   - install into a venv and run the demo under -X fatopt
#   make test   - install into a venv (building the C extension) and run the tests
# PYTHON picks the interpreter (>= 3.12); each gets its own venv.
PYTHON ?= python3
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV ?= .venv-$(PYVER)
VPY := $(VENV)/bin/python

.PHONY: demo test install bench clean

$(VENV)/.installed: pyproject.toml setup.py fatopt/_guards.c
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed
	$(VPY) -m pip install -q -e '.[test,bench]'

demo: install
	$(VPY) -X fatopt examples/demo.py

test: install
	$(VPY) -m pytest $(PYTEST_ARGS)

bench: install
	$(VPY) benchmarks/bench_guards.py $(BENCH_ARGS)

clean:
	rm -rf build .venv-* fatopt/*.so *.egg-info
