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

# llama.cpp is compiled for any x86-64 CPU with AVX2, not for this host: a native build
# (GGML_NATIVE=ON, llama-cpp-python's default) uses AMX where the CPU has it, and crashes
# in llama_decode there. Override for a native build: make test LLAMA_CMAKE_ARGS=-DGGML_NATIVE=ON
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

# The tests also run the LLM backends for real: every extra, llama-cpp-python compiled once
# (--no-cache-dir: never reuse a wheel pip built earlier with other flags).
$(TEST_STAMP): $(STAMP) Makefile
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet --no-cache-dir --force-reinstall \
		--no-deps 'llama-cpp-python==0.3.36'
	$(BIN)/pip install --quiet -e '.[dev,all]'
	touch $(TEST_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/paperbot ingest
	$(BIN)/paperbot ask "$(QUESTION)"

# Prints the suite's wall time (CI's budget; each test has its own limit, pyproject.toml) and
# keeps pytest's exit code.
test: $(TEST_STAMP)
	@start=$$(date +%s); $(BIN)/python -m pytest; rc=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s wall time (pytest exit code $$rc)"; exit $$rc

clean:
	rm -rf $(VENV) .paperbot
