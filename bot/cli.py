"""The `paperbot` command: ingest, ask, search, stats, export, replay, slack, and feed/add
(bot/feed_cli.py; evals/cli.py adds eval and feedback).

Settings are built here (the edge) and passed down; domain errors become a one-line
message on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from bot.edge import print_json, progress_enabled, settings_from_env
from bot.digest.cli import add_digest_commands
from bot.feed_cli import add_feed_commands
from index.errors import BadInput, PaperbotError

Command = Callable[[argparse.Namespace], int]
Extension = Callable[[argparse._SubParsersAction], None]  # adds subcommands


def _questions(arg: str | None, what: str) -> Iterator[str]:
    """One question from the argument, or one per line from stdin (batch use, one model load)."""
    if arg is not None:
        yield arg
        return
    if sys.stdin is None or sys.stdin.isatty():
        raise BadInput(f"Give a {what}, e.g. paperbot {what == 'query' and 'search' or 'ask'} \"...\", or pipe one per line on stdin.")
    if hasattr(sys.stdin, "reconfigure"):  # a non-UTF-8 line must not end the batch
        sys.stdin.reconfigure(errors="replace")
    for line in sys.stdin:
        if line.strip():
            yield line.rstrip("\n")


def cmd_ingest(args: argparse.Namespace) -> int:
    from index.ingest import ingest

    settings = settings_from_env(args)
    report = ingest(
        settings,
        [Path(p) for p in args.paths] or None,
        progress=progress_enabled(settings) and not args.no_progress,
        log=lambda m: print(m, file=sys.stderr, flush=True),
        wait=args.wait,
    )
    if args.json:
        print_json(report.__dict__)
    else:
        print(report.summary())
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from index.ingest import remove

    settings = settings_from_env(args)
    report = remove(settings, args.ids, wait=args.wait, log=lambda m: print(m, file=sys.stderr, flush=True))
    if args.json:
        print_json(report.__dict__)
    else:
        print(report.summary())
    return 0


def _batch(args: argparse.Namespace, what: str, run: Callable[[str], tuple[dict, str]]) -> int:
    """Run each question; in batch mode a bad question is reported in place, not fatal."""
    batch = args.text is None
    status = 0
    for text in _questions(args.text, what):
        try:
            obj, shown = run(text)
        except BadInput as e:
            if not batch:
                raise
            obj, shown, status = {what if what == "query" else "question": text, "error": str(e)}, f"error: {e}", 2
        if args.json:
            print_json(obj)
        else:
            print(shown + ("\n" if batch else ""), flush=True)
    return status


def _answerer(settings):
    from bot.answer.answerer import Answerer
    from bot.traces import TraceStore
    from index.reader import open_index

    return Answerer(settings, open_index(settings), traces=TraceStore(settings.traces_path))


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.render import answer_text

    settings = settings_from_env(args)
    answerer = _answerer(settings)

    def run(q: str) -> tuple[dict, str]:
        streamed = []

        def on_token(delta: str) -> None:
            if not streamed:
                print(f"({answerer.generator.name} is writing; checked against the abstracts below)\n", flush=True)
            streamed.append(delta)
            print(delta, end="", flush=True)

        a = answerer(q, on_token=None if args.json else on_token)
        shown = answer_text(a)
        if streamed:
            removed = f", {a.removed_sentences} unsupported sentence(s) removed" if a.removed_sentences else ""
            shown = f"\n\n=== checked answer{removed} ===\n" + shown
        return a.to_dict(), shown

    return _batch(args, "question", run)


def cmd_replay(args: argparse.Namespace) -> int:
    from bot.render import answer_text, side_by_side
    from index.settings import LLMSettings
    from bot.traces import TraceStore

    settings = settings_from_env(args)
    traces = TraceStore(settings.traces_path)
    rec = traces.get(args.run_id)
    recorded = rec["settings"]
    settings.retrieval = settings.retrieval.model_validate(recorded["retrieval"])
    settings.answer = settings.answer.model_validate(recorded["answer"])
    settings.llm = LLMSettings.model_validate(
        {**recorded["llm"], "api_key": settings.llm.api_key, **({"backend": args.backend} if args.backend else {})}
    )
    new = _answerer(settings)(rec["question"])
    if args.json:
        print_json({"run_id": args.run_id, "recorded": rec["answer"], "replayed": new.to_dict()})
        return 0
    old = rec["answer"]
    old_text = (f"Note: {old['notice']}\n" if old.get("notice") else "") + (
        f"Tentative: {old['caveat']}\n" if old.get("caveat") else ""
    ) + old["answer"] + "\n\n" + "\n".join(
        f"[{c['n']}] {c['title'] or c['paper_id']}" for c in old["citations"]
    )
    print(f"Question: {rec['question']}\n")
    print(side_by_side(f"recorded: {rec['backend']} (run {args.run_id})", old_text,
                       f"now: {new.backend} (run {new.run_id})", answer_text(new)))  # fmt: skip
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from bot.query.query import understand
    from bot.render import search_json, search_text
    from bot.retrieval.search import search
    from index.reader import open_index

    settings = settings_from_env(args)
    index = open_index(settings)

    def run(text: str) -> tuple[dict, str]:
        with index.use() as idx:  # the newest generation, for this query only
            query = understand(idx, text, settings.retrieval)
            hits = search(idx, query, settings.retrieval, k=args.k)
            q = query.asked
            return {**search_json(q, hits), "generation": idx.generation.name}, search_text(q, hits)

    return _batch(args, "query", run)


def cmd_stats(args: argparse.Namespace) -> int:
    from index import layout

    settings = settings_from_env(args)
    lease = layout.lease_current(settings.index_dir)  # not deleted while we read it
    try:
        gen = lease.generation
        manifest = gen.manifest()
        papers = gen.papers()
    finally:
        lease.release()
    stats = {
        "index": str(settings.index_dir),
        "generation": gen.path.name,
        "papers": len(papers),
        "untitled": sum(1 for p in papers if not p.title),
        "chunks": manifest["chunks"],
        "created": manifest["created"],
        "settings": manifest["settings"],
    }
    from index.feed.cursor import Cursors

    cursors = Cursors(settings.feed_dir, settings.index.name)
    if cursors.read():  # the arXiv feed follows this index: each set's last completed day
        last = cursors.last_run()
        stats["feed"] = {"sets": cursors.read(), "last_run": last.isoformat(timespec="seconds") if last else None}
    if args.json:
        print_json(stats)
    else:
        for k, v in stats.items():
            print(f"{k:>10}: {v}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from index.vectors.chroma import export_chroma

    report = export_chroma(settings_from_env(args), Path(args.dir))
    if args.json:
        print_json(report)
    else:
        print(f"Exported {report['chunks']} chunks of {report['generation']} to {report['path']}, collection "
              f"{report['collection']} ({report['added']} added, {report['deleted']} deleted).")  # fmt: skip
    return 0


def cmd_slack(args: argparse.Namespace) -> int:
    import logging

    from bot.slack.app import create_app, run_socket_mode, serve_http

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = settings_from_env(args)
    answerer = _answerer(settings)
    answerer.index.embed_query("warm-up")  # load the model now, not on the first question
    app = create_app(settings, answerer)
    from index.feed.schedule import start_in_background

    # PAPERBOT_FEED__SCHEDULE: the bot follows arXiv itself; the living index serves what arrives.
    start_in_background(settings, logging.getLogger("paperbot.feed").info)
    if args.http:
        server = serve_http(app, args.host, args.port)
        print(f"paperbot: Slack HTTP mode on http://{args.host}:{server.server_address[1]}/slack/events", flush=True)
        server.serve_forever()
    else:
        run_socket_mode(app, settings)
    return 0


def build_parser(extensions: Iterable[Extension] = ()) -> argparse.ArgumentParser:
    """The parser; ``extensions`` add subcommands from higher layers (evals registers
    `eval` and `feedback`), so this module never imports them."""
    p = argparse.ArgumentParser(
        prog="paperbot", description="Answers questions about ML papers from their abstracts, with citations."
    )
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="add abstract files to the index (default: the bundled corpus)")
    ing.add_argument("paths", nargs="*", help=".txt listings, JSONL/JSON, CSV/TSV, or folders of them")
    ing.add_argument("--json", action="store_true", help="print the ingest report as JSON")
    ing.add_argument("--no-progress", action="store_true", help="no progress bar")
    ing.add_argument("--wait", action="store_true", help="if another ingest is running, wait for it (default: stop)")
    ing.set_defaults(func=cmd_ingest)

    rm = sub.add_parser("remove", help="remove papers from the index by id (see search --json)")
    rm.add_argument("ids", nargs="+", metavar="ID")
    rm.add_argument("--json", action="store_true", help="print the report as JSON")
    rm.add_argument("--wait", action="store_true", help="if an ingest is running, wait for it (default: stop)")
    rm.set_defaults(func=cmd_remove)

    modes = ["hybrid", "dense", "bm25"]
    backends = ["extractive", "llama-cpp", "ollama", "openai", "openai-compatible"]
    ask = sub.add_parser("ask", help="answer a question with cited papers")
    ask.add_argument("text", nargs="?", metavar="QUESTION", help="omit to read one question per line from stdin")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--mode", choices=modes, help="retriever (default: settings)")
    ask.add_argument("--backend", choices=backends, help="answer backend (default: PAPERBOT_LLM__BACKEND)")
    ask.set_defaults(func=cmd_ask)

    rp = sub.add_parser("replay", help="re-run a recorded question and show both answers side by side")
    rp.add_argument("run_id")
    rp.add_argument("--backend", choices=backends, help="answer with this backend instead")
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(func=cmd_replay)

    se = sub.add_parser("search", help="list the papers that best match a query")
    se.add_argument("text", nargs="?", metavar="QUERY", help="omit to read one query per line from stdin")
    se.add_argument("-k", type=int, default=None, help="number of papers (default: retrieval.top_k)")
    se.add_argument("--json", action="store_true", help="print results as JSON")
    se.add_argument("--mode", choices=modes, help="retriever (default: settings)")
    se.set_defaults(func=cmd_search)

    sl = sub.add_parser("slack", help="run the Slack bot (Socket Mode by default)")
    sl.add_argument("--http", action="store_true", help="HTTP mode: serve /slack/events instead of Socket Mode")
    sl.add_argument("--port", type=int, default=3000)
    sl.add_argument("--host", default="0.0.0.0")
    sl.set_defaults(func=cmd_slack)

    st = sub.add_parser("stats", help="what the index holds")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_stats)

    ex = sub.add_parser("export", help="write the index's chunk vectors to another store")
    ex.add_argument("format", choices=["chroma"], help="chroma: a Chroma folder (chromadb.PersistentClient(path=DIR))")
    ex.add_argument("dir", metavar="DIR", help="the folder; an earlier export there is updated to match")
    ex.add_argument("--json", action="store_true", help="print the report as JSON")
    ex.set_defaults(func=cmd_export)

    add_feed_commands(sub)
    add_digest_commands(sub)
    for extend in extensions:
        extend(sub)
    return p


def main(argv: list[str] | None = None, extensions: Iterable[Extension] = ()) -> int:
    args = build_parser(extensions).parse_args(argv)
    for flag in ("k", "limit"):
        if getattr(args, flag, None) is not None and getattr(args, flag) < 1:
            print(f"paperbot: error: {'-k' if flag == 'k' else '--limit'} must be at least 1", file=sys.stderr)
            return 2
    try:
        return args.func(args)
    except PaperbotError as e:
        print(f"paperbot: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        note = (
            "; the index is as it was, and the next ingest reuses what was embedded so far"
            if args.command in ("ingest", "eval")
            else ""
        )
        print(f"paperbot: interrupted{note}.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `paperbot search ... | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["build_parser", "main", "print_json", "progress_enabled", "settings_from_env"]
