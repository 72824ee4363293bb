# The two set-up commands: `make demo` and `make test`. Everything else is a step they call.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export U2NET_HOME ?= $(CURDIR)/var/models

.PHONY: demo test install model env browser lint unit model-tests integration e2e browser-tests security bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The product (with its dev tools) and the devkit (emulators, fake platform, dev stack, demo).
$(VENV)/.installed: pyproject.toml devkit/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]' -e ./devkit
	touch $@

install: $(VENV)/.installed

model: install
	$(BIN)/python -m connector.model_fetch

env: .env
.env: | install
	@$(BIN)/python -c "import secrets,re;from cryptography.fernet import Fernet;t=open('.env.example').read();t=re.sub(r'(?m)^SECRET_KEY=.*',f'SECRET_KEY={secrets.token_urlsafe(32)}',t);t=re.sub(r'(?m)^ENCRYPTION_KEY=.*','ENCRYPTION_KEY='+Fernet.generate_key().decode(),t);open('.env','w').write(t)"
	@echo "wrote .env with fresh SECRET_KEY and ENCRYPTION_KEY"

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else echo "chromium not found: install Debian's chromium package to run the browser tests (they skip)"; fi; }

demo: model env
	$(BIN)/connector demo

test: model browser
	$(BIN)/pytest

unit: install
	$(BIN)/pytest -m unit
model-tests: model
	$(BIN)/pytest -m model
integration: model
	$(BIN)/pytest -m integration
e2e: model
	$(BIN)/pytest -m e2e
browser-tests: model browser
	$(BIN)/pytest -m browser
security: model
	$(BIN)/pytest -m security

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: model
	$(BIN)/python bench/pipeline_bench.py && $(BIN)/python bench/connector_bench.py && $(BIN)/python bench/sync_bench.py

clean:
	rm -rf var/try var/demo .pytest_cache
