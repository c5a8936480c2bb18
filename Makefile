# make run  — set up everything (first time: a few minutes), build the index if there is none, and serve
#             the chat on http://127.0.0.1:7860 (GRADIO_SERVER_PORT to change)
# make ask Q="…" — one answer on the command line
# make test — set up everything with the test tools, start a Chroma server, run the whole test suite
# make eval — the eval suite with the LLM and the baselines: report and plot in eval/results/
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
Q      ?= Wie viele Soldaten hat Russland an der Grenze zusammengezogen?
# llama-cpp-python is source-only on PyPI. It is compiled once (about 4 minutes on 2 cores) for this CPU
# into a wheel kept in the cache folder, and installed from there. AMX is left out: llama.cpp's AMX
# kernels crash (SIGSEGV) on virtual machines that report AMX but do not grant it, as ours do.
LLAMA_CPP := llama-cpp-python==0.3.36
WHEELS    := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/qa-news/wheels
NO_AMX    := $(if $(filter x86_64,$(shell uname -m)),-mno-amx-tile -mno-amx-int8 -mno-amx-bf16)

# The browser tests drive Debian's Chromium (never a browser downloaded by `playwright install`).
CHROMIUM  := /usr/bin/chromium
SUDO      := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install run ask serve test eval bench bench-llm bench-load bench-chaos bench-login bench-scale clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	ls $(WHEELS)/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1 || \
	  CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) CMAKE_ARGS="-DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'" \
	  $(BIN)/python -m pip wheel --quiet --no-deps --no-cache-dir -w $(WHEELS) $(LLAMA_CPP)
	$(BIN)/python -m pip install --quiet --find-links $(WHEELS) -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# The chat builds the index from seeds/ when there is none; an index synced with other articles is kept.
run: install
	$(BIN)/qa serve

serve: run

ask: install
	$(BIN)/qa ask "$(Q)"

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

test: install $(CHROMIUM)
	bash tests/with_chroma_server.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

# The full eval: every pair through both modes and the baselines, llama-index's with the LLM (about 25 min on 2 cores).
eval: install
	$(BIN)/qa eval $(EVAL_ARGS)

bench: install
	$(BIN)/python bench/bench.py

bench-llm: install
	$(BIN)/python bench/bench_llm.py

bench-load: install
	$(BIN)/python bench/load_app.py $(LOAD_ARGS)

# Ingests killed at random points, two writers at once and page uploads under a live app (about 10 min; run it alone).
bench-chaos: install
	$(BIN)/python bench/chaos.py $(CHAOS_ARGS)

# 40 wrong logins at once against a page with QA_APP_AUTH, then the right one until it works (about 3 min).
bench-login: install
	$(BIN)/python bench/login_flood.py $(LOGIN_ARGS)

# 17,000 generated articles (≈100k chunks) and 2,000, embedded and on a Chroma server: ingest speed,
# memory, disk, start-up and fast ask latency (bench/scale_results.md). About an hour on 2 cores; not in CI.
bench-scale: install
	$(BIN)/python bench/scale.py $(SCALE_ARGS)

clean:
	rm -rf $(VENV) .index
