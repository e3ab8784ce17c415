# yuqing — one entry point for people and CI. `make run` and `make test` set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STAGE  ?= dev
STATE_DIR ?= .yuqing

.PHONY: setup run test lint typecheck package lock fire clean screenshots

setup: $(STAMP)

# The Lambda bundle first, exactly as locked in requirements.txt (every file checked against its
# hash), then the dev tools held to the bundle's versions (the lock without its hashes as
# constraints), so that what the tests import is what Lambda runs.
$(STAMP): requirements.txt requirements.in requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--require-hashes --no-deps -r requirements.txt
	sed -e '/--hash=/d' -e 's/ *\\$$//' requirements.txt > $(VENV)/bundle-constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-r requirements-dev.txt -c $(VENV)/bundle-constraints.txt
	@touch $(STAMP)

## Resolve requirements.in again into the lock requirements.txt (exact versions, hashes); commit both.
lock: setup
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
		--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--no-emit-trusted-host --output-file requirements.txt requirements.in

## Start the whole system in local embedded mode (moto + Chalice local server + schedules).
## PLAN=file.json: the plan stored on the first start instead of examples/plan.json.
run: setup
	$(BIN)/python -m chalicelib.local --state-dir $(STATE_DIR) run $(if $(PLAN),--plan $(PLAN))

## Fire one schedule now in a running local mode: make fire NAME=health_probe
fire: setup
	$(BIN)/python -m chalicelib.local --state-dir $(STATE_DIR) fire $(NAME)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

## Lint, types, then every test (unit, functional against moto, packaging, end-to-end local mode
## and the dashboard in headless chromium, which tools/ensure_browser.sh installs when missing).
## Two pytest workers (pytest-xdist), one test file each at a time: the end-to-end files mostly
## wait on local mode, so two of them share this 2-core machine's time well (decision 62). The
## schemathesis contract runs on its own afterwards: under xdist its generated cases collapse
## into one test that runs none of them.
TEST_WORKERS ?= 2
CONTRACT = tests/e2e/test_api_contract.py
test: lint typecheck
	bash tools/ensure_browser.sh
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --ignore $(CONTRACT)
	$(BIN)/python -m pytest $(CONTRACT)

## Renew the README's screenshots (docs/dashboard.png, docs/dashboard-incident.png) from the
## browser test's realistic example data.
screenshots: setup
	bash tools/ensure_browser.sh
	YUQING_README_SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e/test_dashboard.py -q

## CloudFormation/SAM template for STAGE into build/STAGE, checked by cfn-lint.
package: setup
	$(BIN)/python -m chalicelib.deploy.package --stage $(STAGE) --out build/$(STAGE)

clean:
	rm -rf build .mypy_cache .pytest_cache .ruff_cache
