"""Write the typo question set: every English dev question with some of its words misspelt,
deterministically (the same file on every run and machine), to measure that misspelt questions
behave like clean ones:

    python -m evals.typo_set    # writes evals/questions/bundled_dev_typos.jsonl
    paperbot eval run --dataset bundled-dev --dataset bundled-dev-typos --out DIR
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
from evals.questions import BUNDLED_DEV, BUNDLED_DEV_TYPOS as OUT
_WORD = re.compile(r"[A-Za-z]{5,}")
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours(ch: str) -> str:
    for r, row in enumerate(_ROWS):
        i = row.find(ch.lower())
        if i >= 0:
            near = row[max(0, i - 1) : i] + row[i + 1 : i + 2]
            near += "".join(_ROWS[rr][i] for rr in (r - 1, r + 1) if 0 <= rr < 3 and i < len(_ROWS[rr]))
            return near
    return ch


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
    sub = rng.choice(_neighbours(word[i]))
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


def compare(report: Path, config: str = "hybrid") -> str:
    """Clean against misspelt, question for question: the typo set's rows against the same dev
    questions' rows in one `paperbot eval run` report (both datasets run together)."""
    runs = {d["name"]: d for d in json.loads(report.read_text(encoding="utf-8"))["datasets"]}
    if not {"bundled-dev", "bundled-dev-typos"} <= set(runs):
        raise SystemExit(f"{report}: run with --dataset bundled-dev --dataset bundled-dev-typos")

    def rows(name: str) -> list[dict]:
        return next(c for c in runs[name]["configs"] if c["name"] == config)["rows"]

    typos = rows("bundled-dev-typos")
    clean = {r["id"]: r for r in rows("bundled-dev")}
    pairs = [(clean[t["id"].removesuffix("-typo")], t) for t in typos]
    lines = [f"{config}, {len(pairs)} dev questions, clean vs misspelt:"]
    for metric in ("hit@5", "false_refusal_rate", "refusal_accuracy", "fact_coverage"):
        both = [(c["metrics"][metric], t["metrics"][metric]) for c, t in pairs if c["metrics"][metric] is not None]
        a, b = (sum(x) / len(both) for x in zip(*both))
        lines.append(f"  {metric:<20} {a:.3f}  {b:.3f}  ({b - a:+.3f}, {len(both)} questions)")
    return "\n".join(lines)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", metavar="REPORT_JSON", help="print clean vs misspelt from an eval run report")
    args = ap.parse_args()
    if args.compare:
        print(compare(Path(args.compare)))
        return
    lines = []
    for line in BUNDLED_DEV.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        if non_english(q["question"]):
            continue
        typo = {**q, "id": f"{q['id']}-typo", "question": with_typos(q["question"], f"typo:{q['id']}"), "typo_of": q["id"]}
        lines.append(json.dumps(typo, ensure_ascii=False))
    Path(OUT).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"Wrote {len(lines)} questions to {OUT}")


if __name__ == "__main__":
    main()
