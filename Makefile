# The README's two commands: `make demo` and `make test`. Both build .venv from scratch
# on a fresh machine; torch is installed first so pip takes the CPU build.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
QUESTION ?= Which papers make LLMs multiplication-free?
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The tests also run the LLM backends for real: every extra, llama-cpp-python compiled once.
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,all]'
	touch $(TEST_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/paperbot ingest
	$(BIN)/paperbot ask "$(QUESTION)"

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .paperbot
