"""What every command-line edge shares: the one Settings built from the environment, JSON
output, whether to show progress."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from index.errors import ConfigError


def settings_from_env(args: argparse.Namespace):
    from index.settings import Settings

    try:
        settings = Settings()
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"Bad setting {where}: {first['msg']}; fix PAPERBOT_{where.upper().replace('.', '__')} "
            "in the environment or .env."
        ) from e
    if getattr(args, "mode", None):
        settings.retrieval.mode = args.mode
    if getattr(args, "backend", None) and args.command == "ask":
        settings.llm.backend = args.backend
    return settings


def print_json(obj: dict) -> None:
    from bot.render import dumps

    print(dumps(obj), flush=True)


def progress_enabled(settings) -> bool:
    return settings.index.progress if settings.index.progress is not None else sys.stderr.isatty()
