"""`paperbot eval ...` and `paperbot feedback export`: the evaluation commands, registered on
bot's parser from here so that dependencies point one way (index <- bot <- evals). The
`paperbot` console script is this module's ``main``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import main as bot_main
from bot.cli import print_json, progress_enabled, settings_from_env
from index.errors import BadInput

MODES = ["hybrid", "dense", "bm25"]


def cmd_eval_beir(args: argparse.Namespace) -> int:
    from evals.beir import evaluate, prepare

    settings = settings_from_env(args)
    data, index = prepare(settings, Path(args.dir), args.split, progress=progress_enabled(settings))
    metrics = evaluate(data, index, settings)
    result = {"dataset": data.name, "split": args.split, "mode": settings.retrieval.mode, **metrics}
    if args.json:
        print_json(result)
    else:
        print(f"{data.name} ({args.split}, {int(metrics['queries'])} queries, {settings.retrieval.mode}):")
        for k in ("nDCG@10", "Recall@10", "Recall@100", "MRR@10"):
            print(f"  {k:<10} {metrics[k]:.4f}")
    return 0


def cmd_eval_questions(args: argparse.Namespace) -> int:
    from evals.configs import EvalConfig
    from evals.datasets import load_dataset
    from evals.harness import by_type, run_dataset

    settings = settings_from_env(args)
    dataset = load_dataset(args.file or "bundled-dev")  # as eval run: the test set on request
    result = run_dataset(dataset, [EvalConfig(settings.retrieval.mode)], settings, answers=True, log=lambda _: None)
    rows = result.runs[0].rows
    summary = {
        **result.runs[0].summary(),
        **{f"hit@5[{t}]": s["hit@5"] for t, s in by_type(rows).items() if s["hit@5"] is not None},
    }
    if args.json:
        print_json({"file": str(dataset.source), **summary, "rows": rows if args.rows else None})
    else:
        print(f"{dataset.source.name} ({summary['questions']} questions, {settings.retrieval.mode}):")
        intervals = summary.get("intervals", {})
        for k, v in summary.items():
            if k != "questions" and isinstance(v, (int, float)):
                ci = intervals.get(k)
                shown = f" [{ci['lo']:.3f}, {ci['hi']:.3f}]" if ci else ""  # 95%
                counted = f" ({ci['k']}/{ci['n']})" if ci and ci.get("k") is not None else ""
                print(f"  {k:<28} {v:.3f}{shown}{counted}")
    for w in result.warnings:
        print(f"paperbot: warning: {w}", file=sys.stderr)
    return 0


def cmd_eval_run(args: argparse.Namespace) -> int:
    from evals.configs import BASELINES, load_configs, with_baselines
    from evals.datasets import load_dataset
    from evals.harness import run_all
    from evals.report import new_report_dir, write_report

    settings = settings_from_env(args)
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
    # The dev questions by default: settings are tuned on them, and the test questions stay
    # held out for reporting (--dataset bundled-test).
    datasets = [load_dataset(spec, args.split).limited(args.limit) for spec in args.dataset or ["bundled-dev"]]
    floors = _floors(args.floors, datasets, configs) if args.floors else None
    results = run_all(datasets, configs, settings, beir_answers=args.answers, progress=progress_enabled(settings))
    out = Path(args.out) if args.out else new_report_dir()
    out.mkdir(parents=True, exist_ok=True)
    report = write_report(results, out, args.reference)
    if args.json:
        print_json(
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
                     "citation_precision": "cite P", "citation_precision_with_refusals": "cite P+ref",
                     "fact_coverage": "facts@80w"}  # fmt: skip
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

    from evals.datasets import same_dataset

    floors = load_floors(Path(path))
    found = any(same_dataset(d.name, floors.dataset) for d in datasets)
    if not found or floors.config not in {c.name for c in configs}:
        raise BadInput(
            f"{path}: names dataset '{floors.dataset}' and configuration '{floors.config}', which this "
            f"run does not include; add --dataset {floors.dataset}."
        )
    return floors


def _check_floors(floors, results) -> int:
    """Exit 1 when the floors' configuration on the floors' dataset is below a recorded floor."""
    from evals.floors import violations

    from evals.datasets import same_dataset

    d = next(d for d in results if same_dataset(d.dataset.name, floors.dataset))
    others = {r.config.name: r.summary() for r in d.runs if r.config.name != floors.config}
    problems = violations(d.run(floors.config).summary(), floors, others)
    for p in problems:
        print(f"paperbot: below the floor: {p}", file=sys.stderr)
    return 1 if problems else 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from bot.render import dumps
    from bot.traces import TraceStore
    from evals.questions import feedback_cases, load_questions

    settings = settings_from_env(args)
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


def register(sub: argparse._SubParsersAction) -> None:
    modes = MODES
    fb = sub.add_parser("feedback", help="Slack feedback")
    fbsub = fb.add_subparsers(dest="feedback_command", required=True)
    fe = fbsub.add_parser("export", help="write thumbs-down answers as evaluation cases (JSONL)")
    fe.add_argument("--out", help="append to this question file (default: stdout)")
    fe.set_defaults(func=cmd_feedback_export)

    ev = sub.add_parser("eval", help="measure retrieval quality")
    evsub = ev.add_subparsers(dest="eval_command", required=True)
    eb = evsub.add_parser("beir", help="nDCG@10, Recall@10/100, MRR@10 on a BEIR dataset folder")
    eb.add_argument("dir", help="folder with corpus.jsonl, queries.jsonl, qrels/")
    eb.add_argument("--split", default="test")
    eb.add_argument("--json", action="store_true")
    eb.add_argument("--mode", choices=modes, help="retriever (default: settings)")
    eb.set_defaults(func=cmd_eval_beir)
    eq = evsub.add_parser("questions", help="hit@1/hit@5 and refusal accuracy on a question set")
    eq.add_argument("file", nargs="?", help="JSONL question set, or bundled-dev (the default), bundled-test, bundled-dev-typos")
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
        help="'bundled-dev' (the default: the repo's dev questions, which settings are tuned on), "
        "'bundled-test' (the held-out test questions, for reporting; 'bundled' is the same set), "
        "'bundled-dev-typos' (the dev questions misspelt, from python -m evals.typo_set), "
        "a JSONL question file, or a BEIR folder (repeatable)",
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


def main(argv: list[str] | None = None) -> int:
    return bot_main(argv, extensions=[register])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
