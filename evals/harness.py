"""`paperbot eval run`: every question of every dataset through every configuration, in one
process, scored per question so that reports can average, split by type and bootstrap."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.answer.answerer import Answerer
from bot.llm.base import Generator
from bot.llm.registry import load_generator
from bot.query.query import understand
from bot.retrieval.search import search
from index.settings import Settings
from evals.configs import REFERENCE, EvalConfig
from evals.datasets import Dataset
from evals.metrics import (
    citation_precision,
    citation_precision_with_refusals,
    citation_recall,
    fact_coverage,
    hit_at,
    interval,
    kept_share,
    mean_defined,
    mrr_at,
    ndcg_at,
    paired_bootstrap,
    percentile,
    recall_at,
)
from evals.questions import Question, resolve_gold
from index import layout
from index.ingest import ingest
from index.embedding.embedders import Embedder
from index.reader import LiveIndex, LoadedIndex, open_index

DEPTH = 100  # ranking depth scored for every question
RECALL_KS = (1, 2, 3, 5, 10, 20, 50, 100)
HIT_KS = (1, 3, 5, 10)
RANKING = ("nDCG@10", "MRR@10", *(f"Recall@{k}" for k in RECALL_KS), *(f"hit@{k}" for k in HIT_KS))
ANSWERING = (
    "refusal_accuracy",
    "false_refusal_rate",
    "confident_unanswerable_rate",
    "confident_gold_rate",
    "answered_gold_rate",
    "tentative_rate",
    "tentative_unanswerable_rate",
    "citation_precision",
    "citation_recall",
    "fact_coverage",
    "grounding_kept",
    "fallback_rate",
    "citation_precision_with_refusals",
)
# The metrics compared between configurations with bootstrap intervals.
COMPARED = ("nDCG@10", "Recall@10", "MRR@10", "hit@5", *ANSWERING[:10])
# Ranking metrics down to this depth are scored on the very ranking the bot serves: the same
# candidate pools (retrieval.candidates per retriever) fused the same way. Deeper metrics
# (Recall@20/50/100) need deeper pools (DEPTH per retriever); those papers are appended
# after the served ten, so a deeper pool never reorders what the bot shows. (The pools are the
# bot's when retrieval.candidates >= max(10, top_k), as by default; each answer's
# ``served_same`` checks it.)
SERVED_DEPTH = 10
LOWER_IS_BETTER = {"false_refusal_rate", "fallback_rate", "confident_unanswerable_rate", "tentative_unanswerable_rate"}


@dataclass
class ConfigRun:
    config: EvalConfig
    settings: Settings
    rows: list[dict[str, Any]]
    seconds: float
    _summary: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def summary(self) -> dict[str, Any]:
        """``summarize(rows)``, worked out once: the report, the printed table, the floors check
        and --json all read it, and its intervals bootstrap every metric."""
        if self._summary is None:
            self._summary = summarize(self.rows)
        return self._summary


@dataclass
class DatasetRun:
    dataset: Dataset
    answers: bool
    runs: list[ConfigRun] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def run(self, name: str) -> ConfigRun | None:
        return next((r for r in self.runs if r.config.name == name), None)

    def comparisons(self, reference: str = REFERENCE) -> dict[str, dict[str, dict[str, float]]]:
        """Each configuration against the reference, metric by metric, paired over questions."""
        ref = self.run(reference)
        if ref is None:
            return {}
        return {r.config.name: compare(ref.rows, r.rows) for r in self.runs if r is not ref}

    def type_comparisons(self, reference: str = REFERENCE, metric: str = "hit@5") -> dict[str, dict[str, dict[str, float]]]:
        """``metric`` against the reference within each question type that it applies to."""
        ref = self.run(reference)
        if ref is None:
            return {}
        types = [t for t, v in by_type(ref.rows).items() if v[metric] is not None]
        out = {}
        for r in self.runs:
            if r is ref:
                continue
            out[r.config.name] = {
                t: compare(
                    [x for x in ref.rows if x["type"] == t], [x for x in r.rows if x["type"] == t], (metric,)
                )[metric]
                for t in types
            }
        return out


def score_question(
    q: Question, index: LiveIndex | LoadedIndex, settings: Settings, answerer: Answerer | None
) -> dict[str, Any]:
    """One question, one configuration: its ranking and, with an answerer, its answer, scored.
    A metric is None where it does not apply (ranking metrics on unanswerable questions...)."""
    with index.use() as idx:  # gold and ranking from one generation (the newest)
        gold = resolve_gold(q, idx)
        t0 = time.perf_counter()
        query = understand(idx, q.question, settings.retrieval)
        understand_s = time.perf_counter() - t0
        served = [h.paper.id for h in search(idx, query, settings.retrieval, k=SERVED_DEPTH)]
        search_ms = (time.perf_counter() - t0) * 1000
        deep = [h.paper.id for h in search(idx, query, settings.retrieval, k=DEPTH)]
    head = set(served)
    ranked = served + [p for p in deep if p not in head]
    scored = q.gold_known and q.answerable
    m: dict[str, float | None] = dict.fromkeys((*RANKING, *ANSWERING))
    if scored:
        m["nDCG@10"] = ndcg_at(ranked, gold, 10)
        m["MRR@10"] = mrr_at(ranked, gold, 10)
        m.update({f"Recall@{k}": recall_at(ranked, gold, k) for k in RECALL_KS})
        m.update({f"hit@{k}": hit_at(ranked, gold, k) for k in HIT_KS})
    row: dict[str, Any] = {
        "id": q.id,
        "type": q.type,
        "question": q.question,
        "answerable": q.answerable,
        "gold_known": q.gold_known,
        "gold": sorted(gold),
        "top": ranked[:10],
        "search_ms": round(search_ms, 1),
    }
    if answerer is not None:
        a = answerer(query)  # understood once, for the ranking above
        cited = [c.paper.id for c in a.citations]
        if q.gold_known:
            # Each outcome scored on its own: a flat refusal of an answerable question
            # (false_refusal_rate), a confident answer to an unanswerable one, and tentative
            # answers (either kind of question) apart from both.
            m["refusal_accuracy" if not q.answerable else "false_refusal_rate"] = float(a.refused)
            tentative = float(a.confidence == "tentative")
            m["tentative_rate" if q.answerable else "tentative_unanswerable_rate"] = tentative
            if not q.answerable:
                m["confident_unanswerable_rate"] = float(a.confidence == "answer")
        if scored:
            cites_gold = bool(set(cited) & set(gold))
            m["confident_gold_rate"] = float(a.confidence == "answer" and cites_gold)
            m["answered_gold_rate"] = float(not a.refused and cites_gold)
            m["citation_precision"] = citation_precision(cited, gold)
            m["citation_precision_with_refusals"] = citation_precision_with_refusals(cited, gold, a.refused)
            m["citation_recall"] = citation_recall(cited, gold)
            m["fact_coverage"] = fact_coverage(a.text, q.facts)
        m["grounding_kept"] = kept_share(a.kept_sentences, a.removed_sentences)
        row.update(kept=a.kept_sentences, removed=a.removed_sentences)
        if answerer.generator is not None and not a.refused:
            m["fallback_rate"] = float(bool(a.notice))
        row.update(
            answer=a.text,
            refused=a.refused,
            confidence=a.confidence,
            cited=cited,
            backend=a.backend,
            notice=a.notice,
            # the whole answer as a user waits for it: understanding the question (done once,
            # above, for the ranking too) is part of it
            answer_ms=round((understand_s + a.timings["total"]) * 1000, 1),
            # The papers the answerer was shown are the served ranking's head (same candidates).
            served_same=[h.paper.id for h in a.hits] == served[: len(a.hits)],
        )
    row["metrics"] = m
    return row


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over the questions each metric applies to (None where it applies to none),
    with question counts and latency percentiles; ``intervals`` holds each mean's 95% interval
    and question count (evals.metrics.interval: Wilson for rates, else bootstrap; None where
    the metric applies to no question)."""
    out: dict[str, Any] = {
        "questions": len(rows),
        "answerable": sum(1 for r in rows if r["gold_known"] and r["answerable"]),
        "unanswerable": sum(1 for r in rows if r["gold_known"] and not r["answerable"]),
        "unlabelled": sum(1 for r in rows if not r["gold_known"]),
    }
    intervals: dict[str, dict[str, Any] | None] = {}
    for name in (*RANKING, *ANSWERING):
        values = [v for r in rows if (v := r["metrics"][name]) is not None]
        out[name], intervals[name] = mean_defined(values), interval(values)
    # Of all sentences the LLM wrote, the share kept (not a mean of per-answer shares): its
    # interval resamples answers, each weighted by the sentences it had checked.
    out["grounding_kept"] = kept_share(sum(r.get("kept", 0) for r in rows), sum(r.get("removed", 0) for r in rows))
    checked = [r for r in rows if r["metrics"]["grounding_kept"] is not None]
    intervals["grounding_kept"] = interval(
        [r["metrics"]["grounding_kept"] for r in checked], weights=[r["kept"] + r["removed"] for r in checked]
    )
    # Share of answers whose papers were exactly the head of the scored ranking (None: no answers).
    served = [float(r["served_same"]) for r in rows if "served_same" in r]
    out["served_ranking_scored"] = mean_defined(served)
    intervals["served_ranking_scored"] = interval(served)
    for key, label in (("search_ms", "search"), ("answer_ms", "answer")):
        values = [r[key] for r in rows if key in r]
        out[f"{label}_p50_ms"] = percentile(values, 0.5) if values else None
        out[f"{label}_p95_ms"] = percentile(values, 0.95) if values else None
    out["intervals"] = intervals
    return out


def by_type(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["type"]].append(r)
    return {t: summarize(rs) for t, rs in sorted(groups.items())}


def compare(
    reference: list[dict[str, Any]], other: list[dict[str, Any]], metrics: tuple[str, ...] = COMPARED
) -> dict[str, dict[str, float]]:
    """Paired bootstrap of other - reference for each metric, over the questions where the
    metric applies on both sides."""
    out = {}
    for name in metrics:
        pairs = [
            (a["metrics"][name], b["metrics"][name])
            for a, b in zip(reference, other, strict=True)
            if a["metrics"][name] is not None and b["metrics"][name] is not None
        ]
        if pairs:
            out[name] = paired_bootstrap([a for a, _ in pairs], [b for _, b in pairs])
    return out


class _Indexes:
    """Opened indexes by folder, sharing one embedder per model, so configurations that use
    the same index (most of them) load nothing twice."""

    def __init__(self) -> None:
        self.opened: dict[str, LiveIndex] = {}
        self.embedders: dict[tuple[str, str, int], Embedder] = {}

    def get(self, settings: Settings) -> LiveIndex:
        key = str(settings.index_dir.resolve())
        if key not in self.opened:
            model = (settings.index.embedder, settings.index.model, settings.index.max_tokens)
            index = open_index(settings, self.embedders.get(model))
            self.embedders.setdefault(model, index.embedder)
            self.opened[key] = index
        return self.opened[key]


def ensure_index(base: Settings, s: Settings, dataset: Dataset, progress: bool) -> None:
    """Build what the run needs and is missing: the dataset's index (BEIR: always brought up to
    date with its corpus; own questions: the user's index, or the configured corpus when there is
    none; questions with papers of their own: the configured corpus and those, up to date), then
    any configuration's own index, from the same papers."""
    if dataset.beir is not None:
        ingest(base, [dataset.beir.corpus], progress=progress)
    elif dataset.papers is not None or layout.current_generation(base.index_dir) is None:
        ingest(base, None, progress=progress)
    if s.index_dir != base.index_dir:
        gen = layout.current_generation(base.index_dir)
        assert gen is not None
        ingest(s, [gen.path / layout.PAPERS], progress=progress)


def run_dataset(
    dataset: Dataset,
    configs: list[EvalConfig],
    settings: Settings,
    answers: bool,
    progress: bool = False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    indexes: _Indexes | None = None,
    generators: dict[str, Generator | None] | None = None,
) -> DatasetRun:
    from tqdm import tqdm

    indexes = indexes or _Indexes()
    generators = generators if generators is not None else load_generators(configs, settings)
    base = dataset.base_settings(settings)
    result = DatasetRun(dataset, answers)
    for i, config in enumerate(configs, start=1):
        s = config.apply(base)
        ensure_index(base, s, dataset, progress)
        index = indexes.get(s)
        answerer = Answerer(s, index, generators[config.name]) if answers else None
        # Every configuration is timed from the same state: model and index loaded (one untimed
        # question), abstract sentences not yet embedded, as in a freshly started bot.
        if dataset.questions:
            score_question(dataset.questions[0], index, s, answerer)
        index.forget_cached()
        start = time.perf_counter()
        rows = []
        desc = f"[{i}/{len(configs)}] {dataset.name} · {config.name}"
        for q in tqdm(dataset.questions, desc=desc, unit="q", disable=not progress, file=sys.stderr):
            rows.append(score_question(q, index, s, answerer))
        seconds = time.perf_counter() - start
        result.runs.append(ConfigRun(config, s, rows, seconds))
        log(f"{desc}: {len(rows)} questions in {seconds:.1f} s")
    missing = [r["id"] for r in result.runs[0].rows if r["gold_known"] and r["answerable"] and not r["gold"]]
    if missing:
        result.warnings.append(
            f"{len(missing)} answerable question(s) name gold papers that are not in the index "
            f"({', '.join(missing[:5])}{'...' if len(missing) > 5 else ''}); they score 0."
        )
    return result


def run_all(
    datasets: list[Dataset],
    configs: list[EvalConfig],
    settings: Settings,
    beir_answers: bool = False,
    progress: bool = False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> list[DatasetRun]:
    # Every configuration is validated, and every LLM loaded, before the first (possibly
    # long) run starts: a bad model path fails now, not after an hour of other configurations.
    generators = load_generators(configs, settings)
    indexes = _Indexes()
    return [
        run_dataset(d, configs, settings, d.kind == "questions" or beir_answers, progress, log, indexes, generators)
        for d in datasets
    ]


def load_generators(configs: list[EvalConfig], settings: Settings) -> dict[str, Generator | None]:
    """Each configuration's answer generator (None: extractive), built once for all datasets."""
    return {c.name: load_generator(c.apply(settings).llm) for c in configs}
