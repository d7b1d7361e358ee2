"""How good is a channel's digest? ``python -m evals.digest [--split dev|test]``

Simulated channels from the question sets. Every bundled paper carries a research topic
(``evals/questions/paper_topics.jsonl``, labelled from the abstracts alone by a helper who never
saw the ranking code or its output; ``topics.json`` holds each topic's keywords as a channel
would type them, written by the same helper: they describe the very topics that decide relevance,
which makes BM25 over them a strong baseline). A
channel follows one to three topics: its history is questions of the split on papers of those
topics (asked over the past 90 days, each answered by the real answerer, whose citations are
recorded as the bot records them), and its keywords are its topics'. The new papers are held
back from the index and then added in two ingests: the first digest ranks the first batch from
the history alone; the channel then votes on that digest's five papers (up when on its topics,
down otherwise), and the second digest ranks the second batch with those votes. A new paper is
relevant to a channel when its topic (or its second topic) is one the channel follows.

Each digest is scored by precision@5 and nDCG@10 against two baselines on the same papers:
newest first (the papers of one ingest are equally new: random order among them) and BM25 over
the channel's keywords. The report gives 95% bootstrap intervals over channels and the ratio of
the digest's precision@5 to the better baseline's (target: at least 1.5).

Dev and test share no paper: the dev simulation's history comes from dev questions and its new
papers from papers no dev question is about; the test simulation's history from test questions
and its new papers from papers neither test questions nor the dev simulation use. ``--grid``
chooses the ranking settings on dev (it refuses the test split); the test split is run once."""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.digest.rank import DAY_S
from evals.metrics import ndcg_at, precision_at

HERE = Path(__file__).parent / "questions"
SPLITS = ("dev", "test")
# The digest was measured (README) when the s-questions were the answer-quality test set; they
# joined the dev file afterwards. Its splits stay what they were: its test channels ask them,
# and the sets that joined the dev file after it was measured (LATER) are in neither split.
QUESTIONS, TEST_PREFIX, LATER = HERE / "bundled_dev.jsonl", "s", ("u",)
SHOWN = 5  # what the simulated channel votes on


@dataclass
class Channel:
    id: str
    topics: list[str]
    keywords: str
    questions: list[dict]  # the split's questions it asked, with "at"
    history: list = field(default_factory=list)  # Signals, read back from the data dir


def load_topics() -> tuple[dict[str, set[str]], dict[str, str], dict[str, str]]:
    """(paper id -> its topics, paper id -> its primary topic, topic -> keywords)."""
    papers: dict[str, set[str]] = {}
    primary: dict[str, str] = {}
    for line in (HERE / "paper_topics.jsonl").read_text().splitlines():
        row = json.loads(line)
        papers[row["paper_id"]] = {row["topic"], *([row["also"]] if row.get("also") else [])}
        primary[row["paper_id"]] = row["topic"]
    keywords = {t["topic"]: t["keywords"] for t in json.loads((HERE / "topics.json").read_text())}
    return papers, primary, keywords


def load_split(name: str) -> list[dict]:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return [q for q in rows if q["id"].startswith(TEST_PREFIX) == (name == "test") and not q["id"].startswith(LATER)]


def held_back(split: str, all_ids: list[str], seed: int) -> list[str]:
    """The papers that arrive new in ``split``'s simulation, in arrival order."""
    dev_gold = {g for q in load_split("dev") for g in q["gold_ids"]}
    test_gold = {g for q in load_split("test") for g in q["gold_ids"]}
    dev_new = [p for p in all_ids if p not in dev_gold]
    new = dev_new if split == "dev" else [p for p in all_ids if p not in test_gold and p not in set(dev_new)]
    random.Random(seed).shuffle(new)
    return new


def make_channels(split: str, n: int, new: list[str], now: float, seed: int) -> list[Channel]:
    """``n`` channels, each following one to three topics that have at least two questions in the
    split and papers among the new ones; each asks two to six of its topics' questions."""
    rng = random.Random(seed)
    topics_of, primary, keywords = load_topics()
    by_topic: dict[str, list[dict]] = {}
    for q in load_split(split):
        if q.get("gold_ids") and q["gold_ids"][0] in primary:
            by_topic.setdefault(primary[q["gold_ids"][0]], []).append(q)
    arriving = {t for p in new for t in topics_of.get(p, ())}
    eligible = sorted(t for t, qs in by_topic.items() if len(qs) >= 2 and t in arriving)
    channels = []
    for i in range(n):
        k = rng.choices([1, 2, 3], weights=[3, 5, 2])[0]
        chosen = sorted(rng.sample(eligible, min(k, len(eligible))))
        asked = []
        for t in chosen:
            qs = by_topic[t]
            asked += rng.sample(qs, min(len(qs), rng.randint(2, 6)))
        asked = [{**q, "at": now - rng.uniform(1, 90) * DAY_S} for q in asked]
        channels.append(Channel(f"CSIM{split.upper()}{i:02d}", chosen, "; ".join(keywords[t] for t in chosen), asked))
    return channels


class Simulation:
    """One split's index (kept papers, then two batches of new ones), its channels' histories
    written to the data dir the way the bot writes them, and the candidates of each round."""

    def __init__(self, split: str, channels: int, seed: int, work: Path, log=print) -> None:
        from bot.answer.answerer import Answerer
        from bot.digest.build import observe
        from bot.digest.history import channel_history
        from bot.digest.store import DigestStore, Subscription
        from bot.slack.requests_log import REQUESTS_FILE, Request, RequestLog
        from bot.traces import TraceStore
        from index.ingest import ingest_papers, read_inputs
        from index.papers import merge_papers
        from index.reader import open_index
        from index.settings import Settings

        self.split = split
        self.topics_of = load_topics()[0]
        self.settings = Settings(index={"data_dir": work})
        papers = merge_papers([], read_inputs(self.settings.index.corpus)[1])
        by_id = {p.id: p for p in papers}
        new = held_back(split, sorted(by_id), seed)
        half = len(new) // 2
        self.batches = [new[:half], new[half:]]
        kept = [p for p in papers if p.id not in set(new)]
        log(f"{split}: {len(kept)} papers indexed, then {half} and {len(new) - half} new ones in two ingests")
        store = DigestStore(self.settings.digest_path)
        self.store = store
        ingest_papers(self.settings, kept, source="digest simulation", wait=True)
        index = open_index(self.settings)
        with index.use() as idx:
            observe(idx, store)
        now = time.time()
        self.channels = make_channels(split, channels, new, now, seed)
        # The history, as the bot records it: each question in the request log, answered by the
        # real answerer, its run (citations) in the traces.
        requests = RequestLog(self.settings.index.data_dir / REQUESTS_FILE)
        answerer = Answerer(self.settings, index, traces=TraceStore(self.settings.traces_path))
        answered: dict[str, str] = {}
        for ch in self.channels:
            for q in ch.questions:
                if q["id"] not in answered:
                    answered[q["id"]] = answerer(q["question"]).run_id
                r = Request(f"sim-{ch.id}-{q['id']}", "event", ch.id, "1.0", "1.0", "USIM", q["question"], created=q["at"])
                requests.claim(r)
                requests.set_run(r.event_id, answered[q["id"]])
                requests.set_state(r.event_id, "done")
            store.save(Subscription(ch.id, enabled=True, keywords=ch.keywords, since=now))
            ch.history = channel_history(self.settings, ch.id, store)
        log(f"{split}: {len(self.channels)} channels asked {sum(len(c.questions) for c in self.channels)} questions "
            f"({len(answered)} distinct), answered by the real answerer")  # fmt: skip
        self.index = index
        # Round b's digest sees the papers first seen in its own ingest only: since[b] < that
        # generation's time (stamped to the second, so a second passes first) <= until[b].
        self.since: list[float] = []
        for batch in self.batches:
            self.since.append(time.time())
            time.sleep(1.1)
            ingest_papers(self.settings, [by_id[p] for p in batch], source="digest simulation", wait=True)
            with index.use() as idx:
                observe(idx, store)
        self.until = [*self.since[1:], time.time()]
        self.now = time.time()

    def relevant(self, ch: Channel, batch: int) -> set[str]:
        return {p for p in self.batches[batch] if self.topics_of.get(p, set()) & set(ch.topics)}

    def digest(self, ch: Channel, batch: int, digest_settings, history: list, keywords: str | None = None) -> list[str]:
        """The digest's ranking of the batch (every candidate, no score floor), best first."""
        from bot.digest.build import build_digest

        s = self.settings.model_copy(update={"digest": digest_settings.model_copy(update={"min_score": -1.0})})
        with self.index.use() as idx:
            d = build_digest(s, idx, self.store, ch.id, self.since[batch], limit=len(self.batches[batch]),
                             keywords=ch.keywords if keywords is None else keywords, history=history, now=self.now,
                             until=self.until[batch])  # fmt: skip
        ranked = [p.paper.id for p in d.picks]
        assert set(ranked) <= set(self.batches[batch]), "a digest saw papers of another round"
        return ranked

    def kept(self, ch: Channel, batch: int, digest_settings, history: list) -> list[str]:
        """What the digest would post: at most max_papers, only those over min_score."""
        from bot.digest.build import build_digest

        with self.index.use() as idx:
            d = build_digest(self.settings.model_copy(update={"digest": digest_settings}), idx, self.store, ch.id,
                             self.since[batch], keywords=ch.keywords, history=history, now=self.now,
                             until=self.until[batch])  # fmt: skip
        return [p.paper.id for p in d.picks]

    def baselines(self, ch: Channel, batch: int, seed: int) -> dict[str, list[str]]:
        ids = list(self.batches[batch])
        newest = ids[:]
        random.Random(f"{seed}-{ch.id}-{batch}").shuffle(newest)  # one ingest: equally new
        with self.index.use() as idx:
            scores = idx.bm25(ch.keywords, len(idx.papers))
        bm25 = sorted(ids, key=lambda p: (-scores.get(p, 0.0), newest.index(p)))
        return {"newest": newest, "bm25": bm25}


def votes_on(sim: Simulation, ch: Channel, shown: list[str]) -> list:
    """The channel's votes on what its first digest showed: up on its topics, down otherwise."""
    from bot.digest.history import Signal

    rel = sim.relevant(ch, 0)
    return [Signal("liked" if p in rel else "disliked", sim.now - 3600, paper_id=p) for p in shown[:SHOWN]]


SYSTEMS = ("digest", "newest", "bm25")
EXTRA = ("history",)  # the digest without the channel's keywords: what it learns from history alone


def run(sim: Simulation, digest_settings, seed: int, full: bool = True) -> dict[str, Any]:
    """Per channel and round: precision@5 and nDCG@10 of the digest, of the digest without the
    channel's keywords (a channel that never typed any), and of the baselines; ``full`` adds what
    the digest would post (its score floor applied)."""
    rows = []
    for ch in sim.channels:
        history = list(ch.history)
        for batch in (0, 1):
            rel = sim.relevant(ch, batch)
            ranked = sim.digest(ch, batch, digest_settings, history)
            rankings = {"digest": ranked, **sim.baselines(ch, batch, seed)}
            rankings["history"] = sim.digest(ch, batch, digest_settings, history, keywords="")
            if full:
                posted = sim.kept(ch, batch, digest_settings, history)
            if batch == 0:
                history = history + votes_on(sim, ch, ranked)
            if not rel:
                continue  # nothing to find in this batch: not scored
            row: dict[str, Any] = {"channel": ch.id, "round": batch + 1, "relevant": len(rel),
                                   "candidates": len(sim.batches[batch])}  # fmt: skip
            graded = {p: 1 for p in rel}
            for name, ranking in rankings.items():
                row[f"{name}_p5"] = precision_at(ranking, graded, 5)
                row[f"{name}_ndcg10"] = ndcg_at(ranking, graded, 10)
            if full:
                row["posted"] = len(posted)
                row["posted_relevant"] = sum(1 for p in posted if p in rel)
            rows.append(row)
    return {"rows": rows, "summary": summarise(rows, seed)}


def _by_channel(rows: list[dict], seed: int, resamples: int = 2000) -> np.ndarray:
    """Bootstrap resamples of ``rows`` by channel (a channel's two rounds, on the same topics and
    questions, are not independent): for each resample, each row's weight (how often its channel
    was drawn)."""
    channels = sorted({r["channel"] for r in rows})
    index = {c: i for i, c in enumerate(channels)}
    of_row = np.array([index[r["channel"]] for r in rows])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(channels), (resamples, len(channels)))
    counts = np.stack([np.bincount(d, minlength=len(channels)) for d in draws])  # resamples x channels
    return counts[:, of_row].astype(float)  # resamples x rows


def _mean_ci(values: list[float], weights: np.ndarray) -> list[float]:
    v = np.asarray(values, dtype=float)
    means = (weights @ v) / weights.sum(axis=1)
    return [float(v.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def summarise(rows: list[dict], seed: int) -> dict[str, Any]:
    """Means over channel rounds with 95% bootstrap intervals that resample channels."""
    out: dict[str, Any] = {}
    for label, part in (("all", rows), ("round 1", [r for r in rows if r["round"] == 1]),
                        ("round 2", [r for r in rows if r["round"] == 2])):  # fmt: skip
        if not part:
            continue
        weights = _by_channel(part, seed)
        s: dict[str, Any] = {"n": len(part), "channels": len({r["channel"] for r in part}),
                             "ceiling_p5": float(np.mean([min(r["relevant"], 5) / 5 for r in part]))}  # fmt: skip
        for system in (*SYSTEMS, *EXTRA):
            if f"{system}_p5" not in part[0]:
                continue
            for metric in ("p5", "ndcg10"):
                s[f"{system}_{metric}"] = _mean_ci([r[f"{system}_{metric}"] for r in part], weights)
        s["ratio_p5"] = [*_ratio(part, weights)]
        if "posted" in part[0]:
            posted = np.array([r["posted"] for r in part], dtype=float)
            hits = np.array([r["posted_relevant"] for r in part], dtype=float)
            shares = (weights @ hits) / np.maximum(weights @ posted, 1)
            s["posted_per_digest"] = float(posted.mean())
            s["posted_precision"] = [float(hits.sum() / max(posted.sum(), 1)), float(np.percentile(shares, 2.5)),
                                     float(np.percentile(shares, 97.5))]  # fmt: skip
        out[label] = s
    return out


def _ratio(rows: list[dict], weights: np.ndarray) -> tuple[float, float, float]:
    """The digest's mean precision@5 over the better baseline's (better on these rows), with a
    paired bootstrap interval that resamples channels."""
    d = np.array([r["digest_p5"] for r in rows])
    b = {k: np.array([r[f"{k}_p5"] for r in rows]) for k in ("newest", "bm25")}
    base = b[max(b, key=lambda k: b[k].mean())]
    point = d.mean() / base.mean() if base.mean() else float("inf")
    den = weights @ base
    ratios = np.where(den > 0, (weights @ d) / np.where(den > 0, den, 1), np.inf)
    return float(point), float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))


GRID = {
    "temperature": [0.05, 0.2, 0.5],
    "thin_history": [5, 20, 50, 200],
    "lexical_weight": [0.0, 0.4, 0.8, 1.6],
    "cited_weight": [0.5, 1.0],
    "down_penalty": [0.5, 1.0],
}


def grid(sim: Simulation, seed: int, log=print) -> tuple[dict[str, Any], list[dict]]:
    """Every combination of GRID on the dev channels; the best by mean precision@5 over channels
    with keywords and the same channels without (most channels will never type keywords: they are
    for a thin history), then nDCG@10."""
    import itertools

    base = sim.settings.digest
    results = []
    for values in itertools.product(*GRID.values()):
        params = dict(zip(GRID, values))
        summary = run(sim, base.model_copy(update=params), seed, full=False)["summary"]["all"]
        results.append({**params, "p5": summary["digest_p5"][0], "p5_no_keywords": summary["history_p5"][0],
                        "ndcg10": (summary["digest_ndcg10"][0] + summary["history_ndcg10"][0]) / 2})  # fmt: skip
    results.sort(key=lambda r: (-(r["p5"] + r["p5_no_keywords"]), -r["ndcg10"]))
    for r in results[:5]:
        log(json.dumps(r))
    return {k: results[0][k] for k in GRID}, results


def ask_check(sim: Simulation) -> tuple[int, int]:
    """"Ask about this" asks by the paper's title (bot/slack/digest.py ask_question): how many of
    the index's titled papers the answer cites first, answering as the bot does."""
    from bot.answer.answerer import Answerer
    from bot.slack.digest import ask_question

    answerer = Answerer(sim.settings, sim.index)
    titled = [p for p in sim.index.papers.values() if p.title]
    first = sum(1 for p in titled if (a := answerer(ask_question(p.title))).citations and a.citations[0].paper.id == p.id)
    return first, len(titled)


def table(summary: dict[str, Any], split: str) -> str:
    def cell(v: list[float]) -> str:
        return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"

    names = {"digest": "digest", "newest": "newest first", "bm25": "BM25 keywords", "history": "digest, no keywords"}
    shown = [k for k in names if f"{k}_p5" in next(iter(summary.values()))]
    lines = [
        f"| {split} | channel rounds | best possible p@5 | " + " | ".join(f"{names[k]} p@5" for k in shown)
        + " | digest ÷ better baseline (p@5) | " + " | ".join(f"{names[k]} nDCG@10" for k in shown) + " |",
        "| --- " * (4 + 2 * len(shown)) + "|",
    ]
    for label, s in summary.items():
        lines.append(
            f"| {label} | {s['n']} | {s['ceiling_p5']:.3f} | " + " | ".join(cell(s[f"{k}_p5"]) for k in shown)
            + f" | {s['ratio_p5'][0]:.2f} [{s['ratio_p5'][1]:.2f}, {s['ratio_p5'][2]:.2f}] | "
            + " | ".join(cell(s[f"{k}_ndcg10"]) for k in shown) + " |"
        )
    first = next(iter(summary.values()))
    if "posted_precision" in first:
        lines.append("")
        lines.append(f"Posted (at most max_papers, over min_score): {first['posted_per_digest']:.2f} papers a digest, "
                     f"{cell(first['posted_precision'])} of them relevant.")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.digest", description=__doc__.split("\n\n")[0])
    p.add_argument("--split", choices=SPLITS, default="dev")
    p.add_argument("--channels", type=int, default=40, help="simulated channels (default 40)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grid", action="store_true", help="choose the ranking settings on dev (refuses --split test)")
    p.add_argument("--work", type=Path, help="data dir for the simulation (default: a temporary one)")
    p.add_argument("--json", type=Path, help="also write the per-channel rows and the summary here")
    p.add_argument("--ask-check", action="store_true",
                   help="also ask about every titled paper as 'Ask about this' does: how often the answer cites it first")  # fmt: skip
    args = p.parse_args(argv)
    if args.grid and args.split != "dev":
        p.error("--grid chooses settings and runs on dev only; the test split is run once, with the defaults.")
    work = args.work or Path(tempfile.mkdtemp(prefix="paperbot-digest-"))
    sim = Simulation(args.split, args.channels, args.seed, work)
    digest_settings = sim.settings.digest
    if args.grid:
        best, results = grid(sim, args.seed)
        print(f"best on dev: {best}")
        digest_settings = digest_settings.model_copy(update=best)
    result = run(sim, digest_settings, args.seed)
    print(table(result["summary"], args.split))
    if args.ask_check:
        from evals.metrics import wilson_interval

        first, n = ask_check(sim)
        low, high = wilson_interval(first, n)
        print(f"Ask about this: the answer cites the paper asked about first for {first}/{n} titled papers "
              f"({first / n:.3f} [{low:.3f}, {high:.3f}]).")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"split": args.split, "settings": digest_settings.model_dump(), **result}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
