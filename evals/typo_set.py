"""Write the typo question set: every English dev question with some of its words misspelt,
deterministically (the same file on every run and machine), to measure that misspelt questions
behave like clean ones:

    python -m evals.typo_set    # writes evals/questions/bundled_{dev,test}_typos.jsonl
    paperbot eval run --dataset bundled-dev --dataset bundled-dev-typos --out DIR   (or the test pair)
    python -m evals.typo_set --compare DIR/report.json   # the same questions, clean vs misspelt

About one word in four of five letters or more gets one typing error — a letter dropped,
doubled, swapped with the next, or replaced by a neighbour on the keyboard — at any position.
Questions in other languages are left out (their words are not English words to misspell);
the gold, facts and type stay those of the clean question."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from bot.query.language import non_english
from bot.query.spelling import key_neighbours
from evals.datasets import NAMED, TYPO_PAIRS
from evals.metrics import paired_bootstrap

# Each question set's file and its misspelt copy's (the test set's is held out like the test set).
SETS = tuple((NAMED[clean], NAMED[typos]) for clean, typos in TYPO_PAIRS)
_WORD = re.compile(r"[A-Za-z]{5,}")


def misspell(word: str, rng: random.Random) -> str:
    """One typing error in ``word``."""
    i = rng.randrange(len(word))
    kind = rng.choice(("drop", "double", "swap", "neighbour"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i < len(word) - 1 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    sub = rng.choice(key_neighbours(word[i]) or word[i])
    return word[:i] + (sub.upper() if word[i].isupper() else sub) + word[i + 1 :]


def with_typos(question: str, seed: str, share: float = 0.25) -> str:
    rng = random.Random(seed)
    # Acronyms and names in capitals (GPT, LLaMA) are typed with care; lower-case words are not.
    spans = [m for m in _WORD.finditer(question) if not any(c.isupper() for c in m.group()[1:])]
    if not spans:
        return question
    chosen = sorted(rng.sample(spans, max(1, round(share * len(spans)))), key=lambda m: m.start())
    out, last = [], 0
    for m in chosen:
        out += [question[last : m.start()], misspell(m.group(), rng)]
        last = m.end()
    return "".join(out) + question[last:]


# Issue 25: misspelt questions within 0.03 of clean on each of these.
COMPARED = (
    "false_refusal_rate", "confident_unanswerable_rate", "confident_gold_rate", "fact_coverage",
    "citation_precision", "answered_gold_rate", "refusal_accuracy", "hit@5",
)  # fmt: skip


def compare(report: Path, config: str = "hybrid") -> str:
    """Clean against misspelt, question for question: each typo set's rows against the same
    questions' rows in one `paperbot eval run` report (both datasets run together), with the
    paired bootstrap's 95% interval of the difference."""
    runs = {d["name"]: d for d in json.loads(report.read_text(encoding="utf-8"))["datasets"]}
    pairs_run = [(c, t) for c, t in TYPO_PAIRS if {c, t} <= set(runs)]
    if not pairs_run:
        raise SystemExit(f"{report}: run with --dataset bundled-dev --dataset bundled-dev-typos (or the test pair)")

    def rows(name: str) -> list[dict]:
        return next(c for c in runs[name]["configs"] if c["name"] == config)["rows"]

    lines = []
    for clean_name, typo_name in pairs_run:
        typos = rows(typo_name)
        clean = {r["id"]: r for r in rows(clean_name)}
        pairs = [(clean[t["id"].removesuffix("-typo")], t) for t in typos]
        lines.append(f"{config}, {len(pairs)} {clean_name} questions, clean vs misspelt (95% interval of the difference):")
        for metric in COMPARED:
            both = [(c["metrics"].get(metric), t["metrics"].get(metric)) for c, t in pairs]
            both = [(a, b) for a, b in both if a is not None and b is not None]
            if not both:
                continue
            d = paired_bootstrap([a for a, _ in both], [b for _, b in both])
            a, b = (sum(x) / len(both) for x in zip(*both))
            lines.append(f"  {metric:<28} {a:.3f}  {b:.3f}  ({d['delta']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}], "
                         f"{len(both)} questions)")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", metavar="REPORT_JSON", help="print clean vs misspelt from an eval run report")
    args = ap.parse_args()
    if args.compare:
        print(compare(Path(args.compare)))
        return
    for source, out in SETS:
        if not source.is_file():
            continue
        lines = []
        for line in source.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            if non_english(q["question"]):
                continue
            typo = {**q, "id": f"{q['id']}-typo", "question": with_typos(q["question"], f"typo:{q['id']}"), "typo_of": q["id"]}
            lines.append(json.dumps(typo, ensure_ascii=False))
        Path(out).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"Wrote {len(lines)} questions to {out}")


if __name__ == "__main__":
    main()
