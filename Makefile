# Each target sets itself up: a fresh clone needs only python3 (>= 3.11) and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench bench-proxy typecheck clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed  ## redact the bundled example payload with the built-in default policy
	$(BIN)/veil demo

test: $(BIN)/.installed  ## type-check veil (mypy --strict), then run the test suite
	$(BIN)/python -m mypy veil
	$(BIN)/python -m pytest -q

bench: $(BIN)/.installed  ## engine benchmark: plan vs orjson round trip vs naive stdlib re walker
	$(BIN)/python bench/engine.py

bench-proxy: $(BIN)/.installed  ## proxy latency: direct vs plain mitmdump vs veil proxy, in one run
	$(BIN)/python bench/proxy.py

typecheck: $(BIN)/.installed
	$(BIN)/python -m mypy veil

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
