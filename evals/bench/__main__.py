"""`python -m evals.bench`: the speed benchmark (evals/bench/speed.py)."""

import sys

from evals.bench.speed import main

sys.exit(main() or 0)
