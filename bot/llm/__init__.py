"""Answer generators: the Generator protocol (base.py), a registry of backends (registry.py),
the llama-index backends (llamaindex.py) and a fake for tests (fake.py)."""
