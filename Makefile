# The two commands a newcomer needs:  `make run`  and  `make test`.
# Both create .venv/ on first use and reinstall when pyproject.toml changes.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test
run: $(VENV)/.installed
	$(PY) -m bot

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,train]'
	touch $@
