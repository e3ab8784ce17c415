# yuqing — one entry point for people and CI. `make run` and `make test` set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STAGE  ?= dev
STATE_DIR ?= .yuqing

.PHONY: setup run test lint typecheck unit package fire clean screenshots

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

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
test: lint typecheck
	bash tools/ensure_browser.sh
	$(BIN)/python -m pytest

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
