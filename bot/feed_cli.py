"""`paperbot feed arxiv` and `paperbot add`: papers from arXiv into the index (index/feed/)."""

from __future__ import annotations

import argparse
import sys

from bot.edge import print_json, settings_from_env
from index.errors import BadInput


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _show(report, as_json: bool) -> None:
    """A run's report: one JSON object, or its one-line summary."""
    if as_json:
        print_json(report.to_json())
    else:
        print(report.summary())


def cmd_feed(args: argparse.Namespace) -> int:
    settings = settings_from_env(args)
    if args.every:
        from index.feed.schedule import run_on_schedule
        from index.settings.feed import interval_seconds

        try:
            interval_seconds(args.every)
        except ValueError as e:
            raise BadInput(f"--every: {e}") from e
        if args.from_ or args.until:
            raise BadInput("--every follows each set's cursor; drop --from/--until (backfill once without --every first).")
        # One line per run (stdout; with --json the line is on stderr and stdout gets each run's
        # JSON object); runs until stopped.
        run_on_schedule(
            settings, args.every, args.sets or None,
            log=_log if args.json else (lambda m: print(m, flush=True)),
            on_report=(lambda r: print_json(r.to_json())) if args.json else None,
        )  # fmt: skip
        return 0
    from index.feed.run import feed_arxiv

    _show(feed_arxiv(settings, args.sets or None, args.from_, args.until, log=_log), args.json)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from index.feed.run import add_arxiv

    _show(add_arxiv(settings_from_env(args), args.refs, log=_log), args.json)
    return 0


def add_feed_commands(sub: argparse._SubParsersAction) -> None:
    feed = sub.add_parser("feed", help="follow a source of new papers (arXiv) and ingest what it publishes")
    kinds = feed.add_subparsers(dest="source", required=True)
    ax = kinds.add_parser(
        "arxiv",
        help="harvest arXiv sets through OAI-PMH and ingest new papers, new versions and deletions",
        description="Harvest arXiv's OAI-PMH sets and ingest what changed. Without --from, each set continues "
        "from the last day it completed (kept in the data dir).",
    )
    ax.add_argument(
        "--set", dest="sets", action="extend", nargs="+", metavar="SET",
        help='an OAI-PMH set: cs:cs:CL (a category), cs (all of cs.*), physics:hep-th; repeatable '
        "(default: PAPERBOT_FEED__SETS)",
    )  # fmt: skip
    ax.add_argument("--from", dest="from_", metavar="YYYY-MM-DD", help="first day (default: each set's cursor)")
    ax.add_argument("--until", metavar="YYYY-MM-DD", help="last day (default: today, UTC)")
    ax.add_argument("--json", action="store_true", help="print the run's report as one JSON object")
    ax.add_argument(
        "--every", metavar="INTERVAL",
        help="keep running: harvest now and then every INTERVAL (24h, 6h, 90m), one line per run; "
        "arXiv failures are retried with backoff",
    )  # fmt: skip
    ax.set_defaults(func=cmd_feed)

    add = sub.add_parser("add", help="add arXiv papers by id or link (2401.01234, https://arxiv.org/abs/2401.01234)")
    add.add_argument("refs", nargs="+", metavar="ID_OR_URL", help="arXiv ids (with or without version) or abs/pdf links")
    add.add_argument("--json", action="store_true", help="print the report as JSON")
    add.set_defaults(func=cmd_add)
