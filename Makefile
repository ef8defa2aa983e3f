# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck test-modeler test-document bench clean fuzz-expressions \
	test-web web-assets

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(VENV)/bin/sopflow demo

test: $(STAMP_DEV)
	$(PY) -m pytest -q

lint: $(STAMP_DEV)
	$(VENV)/bin/ruff check src tests examples benchmarks
	$(VENV)/bin/mypy

typecheck: lint

# bpmn-js (headless Debian chromium, offline) + bpmnlint on every shipped and compiled BPMN,
# then the tests that break files on purpose; docs/modeler.md. Needs node/npm and chromium.
test-modeler: $(STAMP_DEV)
	bash modeler/check.sh
	$(PY) -m pytest -q tests/test_modeler_check.py

# The tasklist and dashboard in Debian's headless Chromium via Playwright (never downloads a
# browser); screenshots to docs/images/web-*.png. docs/web.md.
test-web: $(STAMP_DEV)
	SOPFLOW_TEST_BROWSER=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_web_browser.py

# htmx, pinned in web/package-lock.json, copied into the package (served from there).
web-assets:
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	cp web/node_modules/htmx.org/dist/htmx.min.js src/sopflow/web/static/htmx.min.js

# Each shipped SOP's official document rendered to PNG pages (build/documents/) for a person.
test-document: $(STAMP_RUN)
	bash modeler/render-documents.sh

# The expression-language fuzz target (docs/expressions.md): many more hypothesis examples.
FUZZ_EXAMPLES ?= 200000
fuzz-expressions: $(STAMP_DEV)
	SOPFLOW_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider tests/test_expressions_properties.py

bench: $(STAMP_DEV)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache demo-report.html sopflow-demo.db*
