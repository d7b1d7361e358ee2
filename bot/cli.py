"""The `paperbot` command: ingest, ask, search, stats, eval.

Settings are built here (the edge) and passed down; domain errors become a one-line
message on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import ValidationError

from bot.errors import BadInput, ConfigError, PaperbotError

Command = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace):
    from bot.settings import Settings

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


def _questions(arg: str | None, what: str) -> Iterator[str]:
    """One question from the argument, or one per line from stdin (batch use, one model load)."""
    if arg is not None:
        yield arg
        return
    if sys.stdin is None or sys.stdin.isatty():
        raise BadInput(f"Give a {what}, e.g. paperbot {what == 'query' and 'search' or 'ask'} \"...\", or pipe one per line on stdin.")
    for line in sys.stdin:
        if line.strip():
            yield line.rstrip("\n")


def _print_json(obj: dict) -> None:
    from bot.render import dumps

    print(dumps(obj), flush=True)


def _progress(settings) -> bool:
    return settings.index.progress if settings.index.progress is not None else sys.stderr.isatty()


def cmd_ingest(args: argparse.Namespace) -> int:
    from index.build import ingest

    settings = _settings(args)
    report = ingest(
        settings,
        [Path(p) for p in args.paths] or None,
        progress=_progress(settings) and not args.no_progress,
        log=lambda m: print(m, file=sys.stderr),
    )
    if args.json:
        _print_json(report.__dict__)
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
            _print_json(obj)
        else:
            print(shown + ("\n" if batch else ""), flush=True)
    return status


def _answerer(settings):
    from bot.answer import Answerer
    from bot.traces import TraceStore
    from index.loaded import open_index

    return Answerer(settings, open_index(settings), traces=TraceStore(settings.traces_path))


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.render import answer_text

    settings = _settings(args)
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
    from bot.settings import LLMSettings
    from bot.traces import TraceStore

    settings = _settings(args)
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
        _print_json({"run_id": args.run_id, "recorded": rec["answer"], "replayed": new.to_dict()})
        return 0
    old = rec["answer"]
    old_text = (f"Note: {old['notice']}\n" if old.get("notice") else "") + old["answer"] + "\n\n" + "\n".join(
        f"[{c['n']}] {c['title'] or c['paper_id']}" for c in old["citations"]
    )
    print(f"Question: {rec['question']}\n")
    print(side_by_side(f"recorded: {rec['backend']} (run {args.run_id})", old_text,
                       f"now: {new.backend} (run {new.run_id})", answer_text(new)))  # fmt: skip
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from bot.render import search_json, search_text
    from bot.retrieval import check_query, search
    from index.loaded import open_index

    settings = _settings(args)
    index = open_index(settings)

    def run(q: str) -> tuple[dict, str]:
        q = check_query(q)
        hits = search(index, q, settings.retrieval, k=args.k)
        return search_json(q, hits), search_text(q, hits)

    return _batch(args, "query", run)


def cmd_stats(args: argparse.Namespace) -> int:
    from index import layout

    settings = _settings(args)
    gen = layout.require_generation(settings.index_dir)
    manifest = gen.manifest()
    papers = gen.papers()
    stats = {
        "index": str(settings.index_dir),
        "generation": gen.path.name,
        "papers": len(papers),
        "untitled": sum(1 for p in papers if not p.title),
        "chunks": manifest["chunks"],
        "created": manifest["created"],
        "settings": manifest["settings"],
    }
    if args.json:
        _print_json(stats)
    else:
        for k, v in stats.items():
            print(f"{k:>10}: {v}")
    return 0


def cmd_eval_beir(args: argparse.Namespace) -> int:
    from evals.beir import evaluate, prepare

    settings = _settings(args)
    data, index = prepare(settings, Path(args.dir), args.split, progress=_progress(settings))
    metrics = evaluate(data, index, settings)
    result = {"dataset": data.name, "split": args.split, "mode": settings.retrieval.mode, **metrics}
    if args.json:
        _print_json(result)
    else:
        print(f"{data.name} ({args.split}, {int(metrics['queries'])} queries, {settings.retrieval.mode}):")
        for k in ("nDCG@10", "Recall@10", "Recall@100", "MRR@10"):
            print(f"  {k:<10} {metrics[k]:.4f}")
    return 0


def cmd_eval_questions(args: argparse.Namespace) -> int:
    from evals.configs import EvalConfig
    from evals.datasets import load_dataset
    from evals.harness import by_type, run_dataset

    settings = _settings(args)
    dataset = load_dataset(args.file or "bundled")
    result = run_dataset(dataset, [EvalConfig(settings.retrieval.mode)], settings, answers=True, log=lambda _: None)
    rows = result.runs[0].rows
    summary = {
        **result.runs[0].summary(),
        **{f"hit@5[{t}]": s["hit@5"] for t, s in by_type(rows).items() if s["hit@5"] is not None},
    }
    if args.json:
        _print_json({"file": str(dataset.source), **summary, "rows": rows if args.rows else None})
    else:
        print(f"{dataset.source.name} ({summary['questions']} questions, {settings.retrieval.mode}):")
        for k, v in summary.items():
            if k != "questions" and v is not None:
                print(f"  {k:<24} {v:.3f}")
    for w in result.warnings:
        print(f"paperbot: warning: {w}", file=sys.stderr)
    return 0


def cmd_eval_run(args: argparse.Namespace) -> int:
    from evals.configs import BASELINES, load_configs, with_baselines
    from evals.datasets import load_dataset
    from evals.harness import run_all
    from evals.report import new_report_dir, write_report

    settings = _settings(args)
    configs = with_baselines([c for path in args.config for c in load_configs(Path(path))])
    if args.only:
        unknown = set(args.only) - {c.name for c in configs}
        if unknown:
            raise BadInput(
                f"--only {', '.join(sorted(unknown))}: no such configuration; known: "
                f"{', '.join(c.name for c in configs)}."
            )
        baselines = {c.name for c in BASELINES}
        # The baselines stay: every report shows what the hybrid pipeline adds.
        configs = [c for c in configs if c.name in args.only or c.name in baselines or c.name == args.reference]
    if args.reference not in {c.name for c in configs}:
        raise BadInput(f"--reference {args.reference}: no such configuration; known: {', '.join(c.name for c in configs)}.")
    datasets = [load_dataset(spec, args.split).limited(args.limit) for spec in args.dataset or ["bundled"]]
    floors = _floors(args.floors, datasets, configs) if args.floors else None
    results = run_all(datasets, configs, settings, beir_answers=args.answers, progress=_progress(settings))
    out = Path(args.out) if args.out else new_report_dir()
    out.mkdir(parents=True, exist_ok=True)
    report = write_report(results, out, args.reference)
    if args.json:
        _print_json(
            {
                "report": str(report),
                "datasets": {d.dataset.name: {r.config.name: r.summary() for r in d.runs} for d in results},
            }
        )
    else:
        _print_summary(results, report)
    return _check_floors(floors, results) if floors else 0


def _print_summary(results, report: Path) -> None:
    for d in results:
        print(f"\n{d.dataset.name} ({len(d.dataset.questions)} questions)")
        cols = {"nDCG@10": "nDCG@10", "Recall@10": "R@10", "MRR@10": "MRR@10", "hit@5": "hit@5"}
        if d.answers:
            cols |= {"refusal_accuracy": "refusal", "false_refusal_rate": "false ref.",
                     "citation_precision": "cite P", "fact_coverage": "facts"}  # fmt: skip
        print(f"  {'configuration':<16}" + "".join(f"{label:>11}" for label in cols.values()) + f"{'p50 ms':>9}")
        for r in d.runs:
            s = r.summary()
            cells = "".join(f"{'—' if s[c] is None else format(s[c], '.3f'):>11}" for c in cols)
            p50 = s["answer_p50_ms"] if d.answers else s["search_p50_ms"]
            print(f"  {r.config.name:<16}{cells}{p50:>9.0f}")
        for w in d.warnings:
            print(f"  warning: {w}")
    print(f"\nReport: {report} (with report.json and charts)")


def _floors(path: str, datasets, configs):
    """The floors file, checked against the run before it starts."""
    from evals.floors import load_floors

    floors = load_floors(Path(path))
    if floors.dataset not in {d.name for d in datasets} or floors.config not in {c.name for c in configs}:
        raise BadInput(
            f"{path}: names dataset '{floors.dataset}' and configuration '{floors.config}', which this "
            f"run does not include; add --dataset {floors.dataset}."
        )
    return floors


def _check_floors(floors, results) -> int:
    """Exit 1 when the floors' configuration on the floors' dataset is below a recorded floor."""
    from evals.floors import violations

    run = next(d.run(floors.config) for d in results if d.dataset.name == floors.dataset)
    problems = violations(run.summary(), floors)
    for p in problems:
        print(f"paperbot: below the floor: {p}", file=sys.stderr)
    return 1 if problems else 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from bot.render import dumps
    from bot.traces import TraceStore
    from evals.questions import feedback_cases, load_questions

    settings = _settings(args)
    cases = feedback_cases(TraceStore(settings.traces_path).downvoted())
    if args.out and Path(args.out).is_file():
        # Appending again must not duplicate cases (or clobber labels given since).
        present = {q.id for q in load_questions(Path(args.out))}
        cases = [c for c in cases if c["id"] not in present]
    lines = "".join(dumps(c) + "\n" for c in cases)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:  # append: a question set grows
            f.write(lines)
        print(f"Appended {len(cases)} thumbs-down case(s) to {args.out}; label their gold_ids to score them.")
    else:
        sys.stdout.write(lines)
    return 0


def cmd_slack(args: argparse.Namespace) -> int:
    import logging

    from bot.slack import create_app, run_socket_mode, serve_http

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    app = create_app(settings, _answerer(settings))
    if args.http:
        server = serve_http(app, args.host, args.port)
        print(f"paperbot: Slack HTTP mode on http://{args.host}:{server.server_address[1]}/slack/events", flush=True)
        server.serve_forever()
    else:
        run_socket_mode(app, settings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="paperbot", description="Answers questions about ML papers from their abstracts, with citations."
    )
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="add abstract files to the index (default: the bundled corpus)")
    ing.add_argument("paths", nargs="*", help=".txt listings, JSONL/JSON, CSV/TSV, or folders of them")
    ing.add_argument("--json", action="store_true", help="print the ingest report as JSON")
    ing.add_argument("--no-progress", action="store_true", help="no progress bar")
    ing.set_defaults(func=cmd_ingest)

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

    fb = sub.add_parser("feedback", help="Slack feedback")
    fbsub = fb.add_subparsers(dest="feedback_command", required=True)
    fe = fbsub.add_parser("export", help="write thumbs-down answers as evaluation cases (JSONL)")
    fe.add_argument("--out", help="append to this question file (default: stdout)")
    fe.set_defaults(func=cmd_feedback_export)

    st = sub.add_parser("stats", help="what the index holds")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_stats)

    ev = sub.add_parser("eval", help="measure retrieval quality")
    evsub = ev.add_subparsers(dest="eval_command", required=True)
    eb = evsub.add_parser("beir", help="nDCG@10, Recall@10/100, MRR@10 on a BEIR dataset folder")
    eb.add_argument("dir", help="folder with corpus.jsonl, queries.jsonl, qrels/")
    eb.add_argument("--split", default="test")
    eb.add_argument("--json", action="store_true")
    eb.add_argument("--mode", choices=modes, help="retriever (default: settings)")
    eb.set_defaults(func=cmd_eval_beir)
    eq = evsub.add_parser("questions", help="hit@1/hit@5 and refusal accuracy on a question set")
    eq.add_argument("file", nargs="?", help="JSONL question set (default: the bundled test set)")
    eq.add_argument("--json", action="store_true")
    eq.add_argument("--rows", action="store_true", help="with --json, include per-question rows")
    eq.add_argument("--mode", choices=modes, help="retriever (default: settings)")
    eq.set_defaults(func=cmd_eval_questions)
    er = evsub.add_parser(
        "run",
        help="compare configurations (always with the bm25, dense and hybrid baselines) on question "
        "sets and BEIR folders; writes Markdown, JSON and charts under evals/reports/<timestamp>/",
    )
    er.add_argument(
        "--config", action="append", default=[], metavar="FILE",
        help="TOML/YAML file naming configurations (repeatable; see evals/configs/example.toml)",
    )  # fmt: skip
    er.add_argument(
        "--dataset", action="append", metavar="SET",
        help="'bundled' (default: the repo's test questions), 'bundled-dev', a JSONL question file, "
        "or a BEIR folder (repeatable)",
    )
    er.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    er.add_argument(
        "--only", nargs="+", metavar="NAME",
        help="of the configuration files, run only these (the bm25/dense/hybrid baselines always run)",
    )  # fmt: skip
    er.add_argument("--reference", default="hybrid", help="configuration the others are compared with (default: hybrid)")
    er.add_argument("--answers", action="store_true", help="also answer BEIR queries (question sets always are)")
    er.add_argument("--limit", type=int, metavar="N", help="first N questions of each dataset (quick runs)")
    er.add_argument("--out", metavar="DIR", help="report folder (default: evals/reports/<UTC timestamp>/)")
    er.add_argument("--json", action="store_true", help="print the report path and summaries as JSON")
    er.add_argument(
        "--floors", metavar="FILE",
        help="exit 1 if a metric falls below the floors in FILE (e.g. evals/floors.toml): a CI gate",
    )  # fmt: skip
    er.set_defaults(func=cmd_eval_run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
