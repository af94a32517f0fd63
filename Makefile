# Each target sets itself up: a fresh clone needs only python3 (>= 3.11) and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench bench-proxy bench-gateway bench-proxy-addon loadtest loadtest-smoke typecheck clean

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

bench-gateway: $(BIN)/.installed  ## gateway latency and capacity: direct, Envoy, Envoy + no-op ext_proc, Envoy + veil extproc, veil proxy
	$(BIN)/pip install --quiet -e '.[envoy]'
	$(BIN)/python bench/gateway.py

bench-proxy-addon: $(BIN)/.installed  ## veil's own CPU time per proxied flow: the addon's hooks in-process, vs the plan alone
	$(BIN)/python bench/proxy_addon.py

loadtest: $(BIN)/.installed  ## Locust load tests, full budgeted run (~8 min on 2 CPUs; exit 1 on a breach or leak)
	$(BIN)/python -m loadtests

loadtest-smoke: $(BIN)/.installed  ## the same suites, a few seconds per configuration (~35 s; CI runs it)
	$(BIN)/python -m loadtests --smoke

typecheck: $(BIN)/.installed
	$(BIN)/python -m mypy veil

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
