"""Domain errors. Each message says what went wrong *and* how to fix it; the edges
(CLI, Slack, evals) translate them into exit codes or replies."""

from __future__ import annotations


class PaperbotError(Exception):
    """Base class for errors a user can act on."""

    exit_code = 1


class BadInput(PaperbotError):
    """Input files or questions that cannot be used as given."""

    exit_code = 2


class ConfigError(PaperbotError):
    """Settings that are inconsistent or point at something missing."""

    exit_code = 3


class IndexMissing(PaperbotError):
    """No usable index where the settings point."""

    exit_code = 4


class FeedError(PaperbotError):
    """arXiv refused, failed or answered something unusable; the run stopped and changed nothing."""

    exit_code = 5
