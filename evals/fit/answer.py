"""Choose the extractive answerer's settings on the dev questions (never the test questions).

Retrieves once per answerable dev question, then replays sentence selection and citation
over a grid of AnswerSettings and prints fact coverage (first 80 words), citation precision
and recall for each, best last. The answer is built as if the question were answered, so
these settings are tuned apart from refusals (python -m evals.fit.refusal).

    python -m evals.fit.answer            # sentence selection grid, on every dev set
    python -m evals.fit.answer --citations   # citation grid
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

from bot.answer.evidence import gather_evidence
from bot.answer.extractive import extractive_answer
from bot.retrieval.search import search
from bot.query.query import understand
from evals.datasets import DEV, Dataset, load_dataset
from evals.harness import ensure_index
from evals.splits import refuse_held_out
from evals.metrics import citation_precision, citation_recall, fact_coverage, mean_defined
from evals.questions import resolve_gold
from index.reader import open_index
from index.settings import Settings

# The grid that chose the defaults with focus_weight (index/settings/answer.py): around them, on
# dev with the s-set. Earlier grids (overlap 0-1, type 0-0.3, contribution 0/0.03, lead 2/3) set
# contribution_bonus and lead_sentences.
SENTENCE_GRID = {
    "focus_weight": (0.0, 0.3, 0.6, 1.0),
    "overlap_weight": (0.25, 0.5, 1.0),
    "type_weight": (0.4, 0.6, 0.8, 1.0),
    "specificity_weight": (0.25, 0.5, 0.75),
}
CITATION_GRID = {
    "cite_min_similarity": (0.4, 0.45, 0.5, 0.55),
    "cite_relative": (0.8, 0.85, 0.9, 0.95),
    "cite_min_coverage": (0.0, 0.3, 0.4, 0.5, 0.6, 0.7),
}


def cases(settings: Settings, dataset: Dataset) -> tuple[Any, list[tuple[Any, str, list, dict[str, int]]]]:
    """(index, [(question, the text answered (Query.answered), hits, gold)]) for the answerable questions, in
    the dataset's own index (the configured corpus, plus its papers for a set written on papers
    of its own; built if missing)."""
    base = dataset.base_settings(settings)
    ensure_index(base, base, dataset, progress=False)
    index = open_index(base)
    out = []
    with index.use() as idx:
        for q in dataset.questions:
            if not q.answerable:
                continue
            gold = resolve_gold(q, idx)
            query = understand(idx, q.question, settings.retrieval)
            out.append((q, query.answered, search(idx, query, settings.retrieval), gold))
    return index, out


def evaluate(sets: list[tuple[Any, list]], settings: Settings) -> dict[str, float | None]:
    """The means over every answerable question of ``sets`` (each an index with its cases)."""
    facts, precision, recall = [], [], []
    for index, data in sets:
        with index.use() as idx:
            for q, asked, hits, gold in data:
                evidence = gather_evidence(idx, asked, hits, settings.answer)
                a = extractive_answer(q.question, hits, evidence, settings)
                cited = [c.paper.id for c in a.citations]
                facts.append(fact_coverage(a.text, q.facts))
                precision.append(citation_precision(cited, gold))
                recall.append(citation_recall(cited, gold))
    return {"facts": mean_defined(facts), "cite_P": mean_defined(precision), "cite_R": mean_defined(recall)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", action="append", metavar="DATASET",
                    help="a dev question set (repeatable; default: " + ", ".join(c for c, _ in DEV) + ")")
    ap.add_argument("--citations", action="store_true", help="tune citation thresholds instead")
    args = ap.parse_args()
    datasets = [load_dataset(n) for n in args.dataset or [c for c, _ in DEV]]
    for dataset in datasets:
        refuse_held_out(dataset.source, dataset.questions)
    settings = Settings()
    sets = [cases(settings, dataset) for dataset in datasets]
    grid = CITATION_GRID if args.citations else SENTENCE_GRID
    results = []
    for values in itertools.product(*grid.values()):
        update = dict(zip(grid, values))
        s = settings.model_copy(update={"answer": settings.answer.model_copy(update=update)})
        m = evaluate(sets, s)
        key = (m["cite_P"] or 0) + 0.5 * (m["cite_R"] or 0) if args.citations else (m["facts"] or 0)
        results.append((key, m, update))
    for key, m, update in sorted(results, key=lambda r: r[0])[-25:]:
        print(" ".join(f"{k}={v:.3f}" for k, v in m.items()), update)
    names = ", ".join(d.name for d in datasets)
    print(f"({sum(len(data) for _, data in sets)} answerable questions of {names}; defaults: {evaluate(sets, settings)})")


if __name__ == "__main__":
    main()
