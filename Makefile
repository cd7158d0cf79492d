# Every target installs what it needs first; `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser test unit lint demo bench package deploy clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: lint unit

# The browser the HTML report's test opens (tests/e2e/test_html_report_browser.py): Debian's Chromium.
# Installed only where it is missing; a failed install does not stop the run, the test then fails and says why.
CHROMIUM := /usr/bin/chromium

browser:
	@if [ -x $(CHROMIUM) ]; then \
		echo "browser: $(CHROMIUM) is installed"; \
	else \
		echo "browser: installing Debian's chromium for the HTML report's browser test"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		{ $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq update && \
		  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends \
			-o Dpkg::Use-Pty=0 chromium >/dev/null; } || \
		echo "browser: could not install chromium: the HTML report's browser test will fail" >&2; \
	fi

unit: install browser
	$(BIN)/python -m pytest -q -p no:randomly tests

lint: install
	$(BIN)/ruff check functions tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	@if command -v terraform >/dev/null 2>&1; then \
		terraform fmt -check -recursive infra/terraform && echo "terraform fmt: infra/terraform ok"; \
	else \
		echo "lint: terraform not installed: SKIPPED the terraform formatting check of infra/terraform"; \
	fi

demo: install
	$(BIN)/netwarden demo

# Ends with netwarden's time and memory as ratios to the reference checker (benchmarks/compare.py);
# NETWARDEN_BENCH_CACHE=config:<key> or env:<VARIABLE> points netwarden at a compiled-baseline cache.
bench: install
	$(BIN)/python -m pytest -q -p no:randomly benchmarks --benchmark-only --benchmark-columns=min,median,max,rounds

# The function bundle (dist/function, dist/function.zip) and the job image context (dist/image).
# PACKAGE_CONFIG and PACKAGE_BASELINE name the deployment's config file and baseline directory.
PACKAGE_CONFIG   ?= netwarden.yaml
PACKAGE_BASELINE ?= baseline

package: install
	$(BIN)/python infra/package.py --out dist --config $(PACKAGE_CONFIG) --baseline $(PACKAGE_BASELINE)

# Prints the deployment steps (infra/README.md); DEPLOY=1 runs them. Never in CI.
deploy: package
	@if [ -n "$$CI" ]; then echo "deploy: refusing to deploy from CI" >&2; exit 1; fi
	@echo "1. IMAGE=<registry>/<namespace>/netwarden:<tag> infra/codeengine/image.sh"
	@echo "2. terraform -chdir=infra/terraform init && terraform -chdir=infra/terraform apply -var image=\$$IMAGE"
	@echo "3. (cd infra/terraform && ../codeengine/subscriptions.sh)"
	@echo "4. infra/codeengine/function.sh"
	@if [ "$(DEPLOY)" = "1" ]; then \
		: "$${IMAGE:?set IMAGE=<registry>/<namespace>/netwarden:<tag>}"; \
		infra/codeengine/image.sh && \
		terraform -chdir=infra/terraform init && terraform -chdir=infra/terraform apply -var "image=$$IMAGE" && \
		(cd infra/terraform && ../codeengine/subscriptions.sh) && \
		infra/codeengine/function.sh; \
	else \
		echo "(printed only: run 'make deploy DEPLOY=1 IMAGE=...' to execute; see infra/README.md)"; \
	fi

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .benchmarks
