"""`paperbot digest`: the digest a channel would get now, without posting it (a dry run for
people and for evaluation), read from the same data dir the bot uses."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from bot.edge import print_json, settings_from_env
from index.errors import BadInput
from index.settings.feed import parse_day


def cmd_digest(args: argparse.Namespace) -> int:
    from bot.digest.build import build_digest, digest_since
    from bot.digest.store import DigestStore
    from index.reader import open_index

    settings = settings_from_env(args)
    if args.limit is not None and args.limit < 1:
        raise BadInput("--limit must be at least 1.")
    store = DigestStore(settings.digest_path)
    sub = store.subscription(args.channel)
    index = open_index(settings)
    now = datetime.now(timezone.utc).timestamp()
    if args.since is not None:
        day = parse_day(args.since, "--since")
        since = datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()
    else:
        since = digest_since(sub, now)
    with index.use() as idx:
        digest = build_digest(settings, idx, store, args.channel, since, limit=args.limit, now=now)
    if args.json:
        print_json(digest.to_json())
        return 0
    data = digest.to_json()
    print(f"Digest for {args.channel}: {len(digest.picks)} of {digest.candidates} papers added since "
          f"{data['since']} (picked by {digest.learned_from()}).")  # fmt: skip
    for i, p in enumerate(data["papers"], 1):
        print(f"{i}. {p['title']}  [{p['score']:.3f}]\n   {p['reason']}")
    return 0


def add_digest_commands(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser(
        "digest",
        help="the digest a Slack channel would get now (a dry run: nothing is posted)",
        description="Rank the papers added to the index since the channel's last digest (or --since) against "
        "what the channel asked, the papers cited there and its votes, as the bot does, and print them best "
        "first without posting.",
    )
    d.add_argument("--channel", required=True, metavar="CHANNEL_ID", help="the Slack channel id, e.g. C0123456789")
    d.add_argument("--since", metavar="YYYY-MM-DD",
                   help="papers added since this day, UTC (default: the channel's last digest; 7 days back for a "
                   "channel that never opted in)")  # fmt: skip
    d.add_argument("--limit", type=int, metavar="N", help="at most N papers (default: PAPERBOT_DIGEST__MAX_PAPERS)")
    d.add_argument("--json", action="store_true",
                   help='print {"channel", "since", "papers": [{"paper_id", "title", "score", "reason"}, ...]}')  # fmt: skip
    d.set_defaults(func=cmd_digest)
