# The two set-up commands: `make demo` and `make test`. Everything else is a step they call.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export U2NET_HOME ?= $(CURDIR)/var/models

.PHONY: demo test install model env browser realstore lint unit model-tests integration e2e browser-tests security realstore-tests bench clean

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

# Debian's PHP for the real WooCommerce store of the real-store tests (the harness downloads Debian's
# wordpress package itself; the WooCommerce archive comes from ../shared or WOOCOMMERCE_ARCHIVE).
REALSTORE_PACKAGES := php-cli php-mysql php-curl php-gd php-xml php-mbstring php-intl php-zip php-getid3 libjs-underscore libjs-cropper
realstore:
	@{ command -v php >/dev/null 2>&1 && php -m | grep -qx mysqli && [ -d /usr/share/php/getid3 ] && [ -d /usr/share/javascript/cropper ]; } || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(REALSTORE_PACKAGES)) >/dev/null; \
	  else echo "PHP not found: install Debian's $(REALSTORE_PACKAGES) to run the real-store tests (they skip)"; fi; }

demo: model env
	$(BIN)/connector demo

test: model browser realstore
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
realstore-tests: model browser realstore
	$(BIN)/pytest -m realstore

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Every figure of bench/README.md, each as a ratio to its bound measured in the same run.
# BENCH_ARGS=--quick for a short look (every benchmark has --quick; the pipeline one then runs 1 round).
BENCH_ARGS ?=
bench: model
	$(BIN)/python bench/connector_bench.py $(BENCH_ARGS)
	$(BIN)/python bench/connector_bench.py --restore-rate 1000 $(BENCH_ARGS)
	$(BIN)/python bench/try_bench.py $(BENCH_ARGS)
	$(BIN)/python bench/worker_bench.py $(BENCH_ARGS)
	$(BIN)/python bench/sync_bench.py $(BENCH_ARGS)
	sync  # the sync benchmark's database writes reach the disk before the intake's commits are timed
	$(BIN)/python bench/webhook_bench.py $(BENCH_ARGS)
	$(BIN)/python bench/pipeline_bench.py $(if $(BENCH_ARGS),--rounds 1,)

clean:
	rm -rf var/try var/demo .pytest_cache
