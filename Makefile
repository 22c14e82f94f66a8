# Two commands on a fresh machine: `make run` (the dashboard) and `make test` (every check).
# Both create .venv and install what they need; nothing is installed outside it but Debian's
# chromium for the browser tests (only when missing, and only where apt-get can run).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DATA ?=
PORT ?= 8501

.PHONY: install run test check lint typecheck unit browser java bench sample clean

# The last two steps compile now what every command would otherwise compile again and again:
# our modules' bytecode (an editable install has none, and with PYTHONDONTWRITEBYTECODE set, as
# in CI and the image, Python would compile them in memory at every start, about 0.1 s a
# command) and Numba's code (about a minute, once), not in front of the first user.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q analytics dashboard
	$(BIN)/python -m analytics.warm
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/gt-throughput dashboard --port $(PORT) $(if $(DATA),--data $(DATA),)

browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium is missing: install Debian's 'chromium' package (the browser tests need it)"; \
	fi

# The Spark engine's tests start a local Spark, which needs Java 17 or 21 (Debian's headless JRE).
java:
	@if command -v java >/dev/null 2>&1 || [ -x "$$JAVA_HOME/bin/java" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's openjdk-17-jre-headless for the Spark tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	else \
		echo "java is missing: install Debian's 'openjdk-17-jre-headless' package (the Spark tests need it)"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install browser java
	$(BIN)/python -m pytest

test: lint typecheck unit

bench: install
	$(BIN)/python -m bench

sample: install
	$(BIN)/python sample_logs/make_sample_logs.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache test-artifacts
