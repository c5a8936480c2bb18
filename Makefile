# make run  — set up everything (first time: a few minutes), build the index, answer a question
# make test — set up everything with the test tools, start a Chroma server, run the whole test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
Q      ?= Wie viele Soldaten hat Russland an der Grenze zusammengezogen?

.PHONY: install run test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/qa ingest
	$(BIN)/qa ask "$(Q)"

test: install
	bash tests/with_chroma_server.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) .index
