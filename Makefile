# Two commands on a fresh machine: `make demo` and `make test`. Each sets up .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_OUT ?= demo_output

.PHONY: demo test lint templates workbook clean

$(STAMP): pyproject.toml
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "osmep_xl needs Python >= 3.11 (python3 is $$(python3 --version))"; exit 1; }
	@test -x $(PY) || python3 -m venv $(VENV) || \
	  { echo "python3 -m venv failed: on Debian run 'apt-get install -y python3-venv' first"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/osmep-xl demo --out $(DEMO_OUT)
	@# The report pack as a draft: the demo data keeps the printed report's own errors (PDF needs LibreOffice).
	$(VENV)/bin/osmep-xl report $(DEMO_OUT)/action_plan.xlsx $(DEMO_OUT)/kpi.xlsx $(DEMO_OUT)/integrated_plan.xlsx \
	  $(DEMO_OUT)/disbursement.xlsx -o $(DEMO_OUT)/report.docx --draft --force \
	  $$(command -v soffice >/dev/null 2>&1 && echo --pdf)

test: $(STAMP)
	@command -v soffice >/dev/null 2>&1 || { \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!!! LibreOffice (soffice) is NOT installed: the LibreOffice tests will be SKIPPED."; \
	  echo "!!! Install: sudo apt-get install -y --no-install-recommends libreoffice-calc-nogui libreoffice-writer-nogui fonts-thai-tlwg poppler-utils"; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; }
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check osmep_xl tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

templates: $(STAMP)
	$(VENV)/bin/osmep-xl templates build --out templates

workbook: $(STAMP)
	$(VENV)/bin/osmep-xl workbook build --out workbook/osmep_xl.xlsm

clean:
	rm -rf $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
