"""Writes an evaluation run as report.md + report.json + PNG charts in one folder
(default ``evals/reports/<UTC timestamp>/`` under the working directory, never inside the
installed package)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bot.types import CONFIDENCES
from evals import plots
from evals.configs import REFERENCE
from evals.harness import COMPARED, DEPTH, LOWER_IS_BETTER, RECALL_KS, SERVED_DEPTH, DatasetRun, by_type
from evals.metrics import FACT_WORDS, interval, mean

# Relative: resolved against the working directory when a report folder is made.
REPORTS = Path("evals") / "reports"
RETRIEVAL_COLUMNS = ("nDCG@10", "Recall@10", "Recall@100", "MRR@10", "hit@1", "hit@5")
# What became of each question: refused, answered tentatively or answered with confidence.
OUTCOME_COLUMNS = (
    ("refusal_accuracy", "refusal acc."),
    ("tentative_unanswerable_rate", "tentative (unanswerable)"),
    ("confident_unanswerable_rate", "confident (unanswerable)"),
    ("false_refusal_rate", "flat refusals"),
    ("tentative_rate", "tentative (answerable)"),
    ("confident_gold_rate", "confident + gold cited"),
    ("answered_gold_rate", "answered or tentative + gold cited"),
)
# How good the answers given are.
QUALITY_COLUMNS = (
    ("citation_precision", "citation P"),
    ("citation_precision_with_refusals", "citation P (refusals 0)"),
    ("citation_recall", "citation R"),
    ("fact_coverage", "fact coverage"),
    ("grounding_kept", "grounding kept"),
    ("fallback_rate", "LLM fallbacks"),
)
ANSWER_COLUMNS = OUTCOME_COLUMNS + QUALITY_COLUMNS
CHART_METRICS = ("nDCG@10", "Recall@10", "MRR@10", "hit@5")


def new_report_dir(root: Path | None = None) -> Path:
    """A new, empty ``<root>/<UTC timestamp>/`` (root: REPORTS under the working directory)."""
    root = (root or REPORTS).absolute()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path, n = root / stamp, 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{n}"
    path.mkdir(parents=True)
    return path


def checkout_commit(short: bool = True) -> str:
    """The commit of the checkout paperbot runs from (short, or the full hash), or "unknown" when
    it runs from an installed wheel: this file must be tracked by the repository git finds, so a
    venv that sits inside some other repository does not lend the installed package that
    repository's commit. Reports and fitted models' provenance both record it."""
    here = Path(__file__).resolve()
    git = {"capture_output": True, "text": True, "timeout": 5, "cwd": here.parent}
    try:
        if subprocess.run(["git", "ls-files", "--error-unmatch", here.name], **git).returncode != 0:
            return "unknown"  # not in a git checkout, or untracked there (site-packages)
        rev = ["git", "rev-parse", *(["--short"] if short else []), "HEAD"]
        return subprocess.run(rev, **git).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):  # no git installed, or it hung
        return "unknown"


def _version() -> str:
    try:
        return version("paperbot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _f(v: float | None, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _ci(value: float | None, iv: dict[str, Any] | None) -> str:
    """A mean with its 95% interval: "0.882 [0.66, 0.97] (15/17)" for a rate of yes/no outcomes
    (k of n questions), "0.793 [0.70, 0.87] (n=71)" for a mean of graded scores."""
    if value is None or iv is None:
        return _f(value)
    count = f"{iv['k']}/{iv['n']}" if iv["k"] is not None else f"n={iv['n']}"
    return f"{value:.3f} [{iv['lo']:.2f}, {iv['hi']:.2f}] ({count})"


def _cell(summary: dict[str, Any], metric: str) -> str:
    return _ci(summary[metric], summary["intervals"].get(metric))


def _ms(p50: float | None, p95: float | None) -> str:
    return "—" if p50 is None else f"{p50:.0f} / {p95:.0f}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "dataset"


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """A Markdown table: the first ``left`` columns (names) left-aligned, numbers right."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _interval(metric: str, c: dict[str, float]) -> str:
    better = c["delta"] < 0 if metric in LOWER_IS_BETTER else c["delta"] > 0
    mark = "" if c["lo"] <= 0 <= c["hi"] else (" ▲" if better else " ▼")
    return f"{c['delta']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}]{mark}"


def _errors(summary: dict[str, Any], metrics: list[str]) -> list[tuple[float, float] | None]:
    ivs = [summary["intervals"].get(m) for m in metrics]
    return [(iv["lo"], iv["hi"]) if iv else None for iv in ivs]


def _outcomes(name: str, rows: list[dict[str, Any]]) -> list[list[str]]:
    """Rows of the outcomes table: answerable and unanswerable questions' shares answered,
    answered tentatively and refused (none for runs whose rows have no ``confidence``)."""
    table = []
    for kind, answerable in (("answerable", True), ("unanswerable", False)):
        got = [r["confidence"] for r in rows if "confidence" in r and r["gold_known"] and r["answerable"] == answerable]
        if got:
            shares = [[1.0 if g == c else 0.0 for g in got] for c in CONFIDENCES]
            table.append([name, kind, *(_ci(mean(v), interval(v)) for v in shares)])
    return table


def _charts(
    out: Path, d: DatasetRun, summaries: list[dict[str, Any]], per_type: list[dict[str, dict[str, Any]]]
) -> list[tuple[str, str]]:
    slug = _slug(d.dataset.name)
    names = [r.config.name for r in d.runs]
    charts = []
    path = plots.grouped_bars(
        out / f"{slug}-retrieval.png",
        f"{d.dataset.name}: retrieval (95% CI)",
        list(CHART_METRICS),
        {n: [s[m] for m in CHART_METRICS] for n, s in zip(names, summaries)},
        {n: _errors(s, list(CHART_METRICS)) for n, s in zip(names, summaries)},
    )
    charts.append(("Retrieval metrics per configuration", path.name))
    path = plots.curves(
        out / f"{slug}-recall-at-k.png",
        f"{d.dataset.name}: recall@k",
        list(RECALL_KS),
        {n: [s[f"Recall@{k}"] for k in RECALL_KS] for n, s in zip(names, summaries)},
        "k (papers retrieved)",
        "recall",
    )
    charts.append(("Recall@k curves", path.name))
    if d.answers:
        cols = [m for m, _ in ANSWER_COLUMNS if any(s[m] is not None for s in summaries)]
        path = plots.grouped_bars(
            out / f"{slug}-answers.png",
            f"{d.dataset.name}: answers (95% CI)",
            [dict(ANSWER_COLUMNS)[m] for m in cols],
            {n: [s[m] for m in cols] for n, s in zip(names, summaries)},
            {n: _errors(s, cols) for n, s in zip(names, summaries)},
        )
        charts.append(("Answer metrics per configuration", path.name))
    key = "answer_ms" if d.answers else "search_ms"
    path = plots.distributions(
        out / f"{slug}-latency.png",
        f"{d.dataset.name}: {'answer' if d.answers else 'search'} latency per question",
        {r.config.name: [row[key] for row in r.rows] for r in d.runs},
        "milliseconds (log scale)",
    )
    charts.append(("Latency distribution", path.name))
    types = [t for t, v in per_type[0].items() if v["hit@5"] is not None] if d.runs else []
    if len(types) > 1:
        path = plots.grouped_bars(
            out / f"{slug}-hit5-by-type.png",
            f"{d.dataset.name}: hit@5 by question type (answerable questions, 95% CI)",
            types,
            {n: [t[ty]["hit@5"] for ty in types] for n, t in zip(names, per_type)},
            {n: [_errors(t[ty], ["hit@5"])[0] for ty in types] for n, t in zip(names, per_type)},
        )
        charts.append(("hit@5 by question type", path.name))
    return charts


def _dataset_section(
    out: Path, d: DatasetRun, reference: str, summaries: list[dict[str, Any]], per_type: list[dict[str, dict[str, Any]]]
) -> list[str]:
    runs = list(zip(d.runs, summaries))
    first = summaries[0]
    lines = [
        f"## {d.dataset.name}",
        "",
        f"{d.dataset.kind} · `{d.dataset.source}` · {first['questions']} questions "
        f"({first['answerable']} answerable, {first['unanswerable']} unanswerable, "
        f"{first['unlabelled']} unlabelled feedback cases) · answers {'scored' if d.answers else 'not run (retrieval only)'}",
        "",
    ]
    lines += [f"> ⚠ {w}" for w in d.warnings] + ([""] if d.warnings else [])
    lines += [
        "### Retrieval",
        "",
        f"Ranking metrics score each configuration's ranking on the questions with gold papers. "
        f"The first {SERVED_DEPTH} papers are the ranking the bot serves (the same candidate pools, "
        f"fused alike; top_k only decides how many of them the answer sees); Recall@20-{DEPTH} "
        f"append the rest of a deeper search ({DEPTH} candidates per retriever) after them.",
        "",
    ]
    lines += _table(
        ["configuration", *RETRIEVAL_COLUMNS, f"top-{DEPTH} search ms p50 / p95"],
        [
            [r.config.name, *(_cell(s, c) for c in RETRIEVAL_COLUMNS), _ms(s["search_p50_ms"], s["search_p95_ms"])]
            for r, s in runs
        ],
    )
    if d.answers:
        outcomes = [row for r in d.runs for row in _outcomes(r.config.name, r.rows)]
        lines += ["", "### Answers", ""]
        if outcomes:
            lines += [
                "What became of each question with known gold: answered (the abstracts state it), "
                "answered tentatively (the closest evidence, with a caveat) or refused.",
                "",
            ]
            lines += _table(["configuration", "questions", *CONFIDENCES], outcomes, left=2) + [""]
        lines += _table(
            ["configuration", *(label for _, label in OUTCOME_COLUMNS)],
            [[r.config.name, *(_cell(s, m) for m, _ in OUTCOME_COLUMNS)] for r, s in runs],
        )
        lines += [
            "",
            "Unanswerable questions: refusal acc. (refused: right), tentative, and confident answers "
            "(the worst outcome). Answerable questions: flat refusals, tentative answers; confident + "
            "gold cited: a confident answer that cites a gold paper; answered or tentative + gold "
            "cited: any answer that does.",
            "",
        ]
        lines += _table(
            ["configuration", *(label for _, label in QUALITY_COLUMNS), "answer ms p50 / p95"],
            [
                [r.config.name, *(_cell(s, m) for m, _ in QUALITY_COLUMNS), _ms(s["answer_p50_ms"], s["answer_p95_ms"])]
                for r, s in runs
            ],
        )
        lines += [
            "",
            "Citation P: cited papers that are gold, over answered questions with gold "
            "(a refusal cites nothing and is not counted); citation P (refusals 0) counts a refused "
            "answerable question as 0. Citation R and fact coverage: gold papers "
            f"cited and required facts stated within the answer's first {FACT_WORDS} words (quoting "
            "more cannot raise it), over all questions with gold (a refusal scores 0). "
            "Grounding kept: of all sentences LLMs wrote, the share the grounding check kept (— for "
            "extractive answers: they quote abstracts and are not checked). LLM fallbacks: answers "
            "where the LLM failed and the extractive answer was given. Latency: whole answer, "
            "retrieval included, each configuration timed from a freshly loaded state. Refusals: the "
            "answerability model (bot/answer/refusal.py) reads the same signals in every retrieval "
            "mode (a retriever the mode skips is asked for its best score).",
        ]
        lines += [
            "",
            "Answers shown exactly the head of the scored ranking: "
            + ", ".join(f"{r.config.name} {_cell(s, 'served_ranking_scored')}" for r, s in runs)
            + " (1.000: ranking is scored on the candidates the bot serves).",
        ]
    comparisons = d.comparisons(reference)
    if comparisons:
        cols = [m for m in COMPARED if any(m in c for c in comparisons.values())]
        n = {m: next(int(c[m]["n"]) for c in comparisons.values() if m in c) for m in cols}
        lines += [
            "",
            f"### Against `{reference}` (difference, 95% paired bootstrap CI over questions)",
            "",
            "▲ / ▼: the interval excludes 0 (better / worse than the reference); n: questions the metric "
            "applies to on both sides.",
            "",
        ]
        lines += _table(
            ["configuration", *(f"{m} (n={n[m]})" for m in cols)],
            [[name, *(_interval(m, c[m]) if m in c else "—" for m in cols)] for name, c in comparisons.items()],
        )
        typed = d.type_comparisons(reference)
        if typed and len(next(iter(typed.values()))) > 1:  # one type: the table above says it all
            lines += ["", f"hit@5 by question type against `{reference}`:", ""]
            lines += _table(
                ["configuration", *(f"{t} (n={int(next(iter(typed.values()))[t]['n'])})" for t in next(iter(typed.values())))],
                [[name, *(_interval("hit@5", c) for c in per.values())] for name, per in typed.items()],
            )
    if len(per_type[0]) > 1:
        metrics = ["hit@5", *(m for m, _ in OUTCOME_COLUMNS)]
        cols = [m for m in metrics if any(t[ty][m] is not None for t in per_type for ty in t)]
        labels = {"hit@5": "hit@5", **dict(OUTCOME_COLUMNS)}
        lines += [
            "",
            "### By question type",
            "",
            "hit@5 on answerable questions, and what became of the answers (as in the table above); "
            "— where a column does not apply to the type.",
            "",
        ]
        lines += _table(
            ["type", "configuration", "n", *(labels[m] for m in cols)],
            [
                [ty, r.config.name, str(t[ty]["questions"]), *(_cell(t[ty], m) for m in cols)]
                for ty in per_type[0]
                for r, t in zip(d.runs, per_type)
            ],
            left=2,
        )
    ref = d.run(reference)
    if ref is not None:
        misses = [
            r
            for r in ref.rows
            if r["gold_known"]
            and (
                (r["answerable"] and (r["metrics"]["hit@5"] == 0.0 or r.get("refused")))
                or (not r["answerable"] and r.get("refused") is False)
            )
        ]
        if misses:
            lines += ["", f"### What `{reference}` got wrong ({len(misses)})", ""]
            for r in misses[:40]:
                if r["answerable"]:
                    why = "refused" if r.get("refused") else "gold not in the top 5"
                else:
                    why = "answered an unanswerable question" + (" tentatively" if r.get("confidence") == "tentative" else "")
                lines.append(f"- `{r['id']}` ({r['type']}, {why}): {r['question'][:160]}")
            if len(misses) > 40:
                lines.append(f"- … and {len(misses) - 40} more (see report.json)")
    lines += ["", "### Charts", ""]
    for caption, name in _charts(out, d, summaries, per_type):
        lines += [f"**{caption}**", "", f"![{caption}]({name})", ""]
    return lines


def _as_run(s) -> str:
    """The settings that differ between configurations, as they were in effect."""
    r = s.retrieval
    fusion = f"{r.fusion} {r.dense_weight:g}" if r.fusion == "weighted" else f"rrf k={r.rrf_k}"
    a = s.answer
    gate = (f"min_similarity {r.min_similarity:g}" if a.answerability == "similarity" else
            "answerability model" + "".join(f", {n} {v:g}" for n, v in (("answer_threshold", a.answer_threshold),
                                                                          ("tentative_threshold", a.tentative_threshold))
                                           if v is not None))  # fmt: skip
    parts = [r.mode + (f" ({fusion})" if r.mode == "hybrid" else ""), f"top_k {r.top_k}", gate,
             f"answer: {s.llm.backend}"]  # fmt: skip
    if s.index.name != "default":
        parts.append(f"index {s.index.name}")
    return ", ".join(parts)


def write_report(results: list[DatasetRun], out: Path, reference: str = REFERENCE) -> Path:
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    commit, paperbot_version = checkout_commit(), _version()
    configs = results[0].runs if results else []
    md = [
        "# paperbot evaluation",
        "",
        f"{created} · paperbot {paperbot_version} · commit `{commit}` · reference configuration `{reference}`",
        "",
        "| configuration | description | overrides | as run |",
        "|---|---|---|---|",
        *(
            f"| {r.config.name} | {r.config.description or '—'} | `{json.dumps(r.config.redacted())}` | {_as_run(r.settings)} |"
            for r in configs
        ),
        "",
        "Every rate and mean carries its 95% interval: `0.882 [0.66, 0.97] (15/17)` is a rate of "
        "yes/no outcomes, 15 of 17 questions, with its Wilson score interval; `0.793 [0.70, 0.87] (n=71)` "
        "a mean of graded per-question scores over 71 questions, with a percentile bootstrap over "
        "questions (2,000 resamples, seeded). report.json holds them under each summary's `intervals`.",
        "",
    ]
    # Each configuration summarised once (the intervals bootstrap): tables, charts and JSON share them.
    stats = [([r.summary() for r in d.runs], [by_type(r.rows) for r in d.runs]) for d in results]
    for d, (summaries, per_type) in zip(results, stats):
        md += _dataset_section(out, d, reference, summaries, per_type) + [""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    payload = {
        "created": created,
        "commit": commit,
        "version": paperbot_version,
        "reference": reference,
        "datasets": [
            {
                "name": d.dataset.name,
                "kind": d.dataset.kind,
                "source": str(d.dataset.source),
                "answers": d.answers,
                "warnings": d.warnings,
                "configs": [
                    {
                        "name": r.config.name,
                        "description": r.config.description,
                        "overrides": r.config.redacted(),
                        "settings": r.settings.model_dump(
                            mode="json", include={"index", "retrieval", "answer", "llm"},
                            exclude={"llm": {"api_key"}},
                        ),  # fmt: skip
                        "seconds": round(r.seconds, 2),
                        "summary": summary,
                        "by_type": types,
                        "rows": r.rows,
                    }
                    for r, summary, types in zip(d.runs, summaries, per_type)
                ],
                "comparisons": d.comparisons(reference),
            }
            for d, (summaries, per_type) in zip(results, stats)
        ],
    }
    (out / "report.json").write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")
    return out / "report.md"
