# The two commands of the README: `make run` and `make test`. Both create .venv on first use.
# `make package` / `make package-test`: the PyInstaller bundle, built in its own venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench demo-models clean package package-test

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10+ is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/robustness-inspector

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# one worker per core of the 2-core box; a test file stays on one worker (its module caches
# and the session's shared exports are built once there): TEST_WORKERS=0 runs serially
TEST_WORKERS ?= 2
test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/attack_speed.py

demo-models: $(STAMP)
	$(BIN)/python resources/demo/build_demo_models.py

# The bundle: a CPU torch by default (a CUDA one adds GBs of CUDA libraries); for CUDA:
# make package BUNDLE_TORCH=torch TORCH_INDEX=https://download.pytorch.org/whl/cu128
BUNDLE_VENV := build/bundle-venv
BUNDLE_BIN := $(BUNDLE_VENV)/bin
BUNDLE_STAMP := $(BUNDLE_VENV)/.installed
BUNDLE_TORCH ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
BUNDLE := dist/robustness-inspector

$(BUNDLE_STAMP): pyproject.toml packaging/bundle_requirements.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	test -x $(BUNDLE_BIN)/python || $(PYTHON) -m venv $(BUNDLE_VENV)
	$(BUNDLE_BIN)/python packaging/bundle_requirements.py '$(BUNDLE_TORCH)' > build/bundle-requirements.txt
	$(BUNDLE_BIN)/python -m pip install --quiet --extra-index-url $(TORCH_INDEX) \
		'$(BUNDLE_TORCH)'  # only torch from torch's index: pip would probe it for every package
	$(BUNDLE_BIN)/python -m pip install --quiet -r build/bundle-requirements.txt setuptools
	touch $(BUNDLE_STAMP)

package: $(BUNDLE_STAMP)
	$(BUNDLE_BIN)/python -m pip install --quiet --no-deps --no-build-isolation --force-reinstall .
	$(BUNDLE_BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist \
		--workpath build/pyinstaller packaging/robustness-inspector.spec
	@du -sh $(BUNDLE)

package-test:
	$(BUNDLE_BIN)/python packaging/smoke.py $(BUNDLE)/robustness-inspector

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist
