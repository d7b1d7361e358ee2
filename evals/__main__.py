"""`python -m evals ...` is the `paperbot` command (every subcommand, eval included)."""

import sys

from evals.cli import main

sys.exit(main())
