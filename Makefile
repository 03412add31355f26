# Everyday commands. `make run` and `make test` install what they need into .venv on first use.
PY := .venv/bin/python
STAMP := .venv/.installed

.PHONY: run test lint bench install upgrade

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]" -c constraints.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m bot

# pytest exits 5 when it collected no tests: that is a failure here.
test: $(STAMP)
	@$(PY) -m pytest -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi; exit $$status

lint: $(STAMP)
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/lint-imports

bench: $(STAMP)
	$(PY) -m bench

# Newest versions pyproject.toml allows; after `make lint test` pass, commit the new constraints.txt.
upgrade: $(STAMP)
	$(PY) -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[dev]"
	{ sed -n '/^#/p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^mjgram'; } > constraints.new
	mv constraints.new constraints.txt
