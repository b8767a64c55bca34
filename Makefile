# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install install-dev browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work offline).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

run: install
	$(BIN)/signalpost run

# axe-core for the accessibility tests (tests/a11y), pinned in package-lock.json. The directory is touched
# after the install because npm keeps the tarball's old file times: without it, make would reinstall every time.
node_modules/axe-core: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

test: install-dev browser node_modules/axe-core
	SIGNALPOST_DATA_DIR=$$(mktemp -d) $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-dev
	@command -v wrk >/dev/null && command -v nginx >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null)
	$(BIN)/python bench/public_read.py
	$(BIN)/python bench/write_path.py
	$(BIN)/python bench/probes.py

clean:
	rm -rf $(VENV) var node_modules
