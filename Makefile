# Two commands from a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test bench clean

$(BIN)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned, so the range in pyproject.toml is already satisfied
	# and pip does not pull the CUDA build.
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[examples,test]"
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/python examples/demo_mnist.py

# Throughput (CPU, and CUDA when present) and scale tables; about half an hour on 2 cores.
bench: install
	$(BIN)/python benchmarks/speed.py --torch-threads 1 --fused-adam-cpu --profile --out speed.md
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/scale.py --out scale.md

test: install
	$(BIN)/python -m pytest -q tests --doctest-modules skgancluster

clean:
	rm -rf $(VENV) *.egg-info
