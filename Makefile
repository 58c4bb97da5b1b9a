# ferrograd: `make demo` and `make test` work on a fresh machine (they set everything up).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.deps-installed
WHEEL_STAMP := $(VENV)/.wheel-installed
export MATURIN_NO_INSTALL_RUST := 1

.PHONY: demo test test-rust test-python bench bench-rust build dev clean fmt lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "maturin>=1.14,<2" "numpy>=1.24" "pytest>=8" "pytest-timeout>=2.3" "hypothesis>=6.100" \
		"safetensors>=0.4" "tqdm>=4.60" "scikit-learn>=1.3" "matplotlib>=3.7"
	touch $(STAMP)

# Builds a release wheel and installs it into the venv (rebuilt when sources change).
$(WHEEL_STAMP): $(STAMP) Cargo.toml Cargo.lock pyproject.toml $(shell find src python -type f -not -name '*.so' -not -path '*/__pycache__/*')
	rm -rf target/wheels
	$(VENV)/bin/maturin build --release --locked --out target/wheels --interpreter $(PY) --quiet
	$(PIP) install --quiet --force-reinstall --no-deps target/wheels/ferrograd-*.whl
	touch $(WHEEL_STAMP)

build: $(WHEEL_STAMP)

# Fast incremental build into the venv for development (not for benchmarks).
dev: $(STAMP)
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --profile dev-fast --quiet
	rm -f $(WHEEL_STAMP)

demo: build
	@if [ -f examples/quickstart.py ]; then $(PY) examples/quickstart.py; fi
	$(PY) examples/train_digits.py

test: build
	cargo test --locked
	$(PY) -m pytest -q tests/python

test-rust:
	cargo test --locked

test-python: build
	$(PY) -m pytest -q tests/python

# Side-by-side figures against NumPy (and torch when importable); a few minutes, not part of `test`.
bench: build
	$(PY) benches/python/compare.py

# Criterion benches of the kernels and the autograd overhead (Rust side).
bench-rust:
	cargo bench --bench kernels

fmt:
	cargo fmt

lint:
	cargo clippy --all-targets -- -D warnings
	cargo clippy --features python -- -D warnings

clean:
	rm -rf $(VENV) target/wheels
