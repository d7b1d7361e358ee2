"""Benchmarks that print numbers: speed, scale, LLM backends, Slack load, checks of the GPU and HNSW paths. `python -m evals.bench` runs the speed benchmark."""
