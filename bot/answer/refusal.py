"""Whether the corpus answers a question: a small logistic model over several signals,
fitted on the dev questions only (``python -m evals.fit.refusal`` writes bot/fitted/refusal.json).

No single similarity separates "the paper is here" from "a paper on a neighbouring topic is
here": an unanswerable question about DPO still finds RLHF abstracts at cosine 0.6. What
differs is whether the retrieved papers contain what the question names (content-word
coverage, BM25), and whether one paper stands out (score gaps). The signals:

- ``dense_top``: best chunk cosine of any retrieved paper;
- ``sentence_top``: best cosine of a single sentence or title;
- ``coverage_top``: the largest idf-weighted share of the question's content words that one
  retrieved paper (title and abstract) contains;
- ``bm25_top``: the best BM25 score over the most the question's words could score (so long
  and short questions compare);
- ``dense_gap``: how far the best paper's chunk cosine is ahead of the next paper's;
- ``sentence_overlap``: the largest share of the question's content words in one sentence (or title);
- ``bigram_coverage``: the largest share of the question's adjacent content-word pairs one paper
  has ("sign language" is not "sign" and "language");
- ``missing_top``: over the retrieved papers, the least rare question word each one lacks,
  relative to the rarest possible (a named method the corpus lacks makes every paper miss it);
- ``absent``: the idf-weighted share of the question's content words no paper of the corpus has;
- ``late_mean``, ``late_low``: how well the question's words, one by one, find their match among
  a retrieved paper's contextual token vectors, on average and for its worst-matched fifth
  (bot/answer/late_interaction.py): the part of a question a neighbouring paper has nothing for;
- ``focus_top``, ``focus_first``: the idf-weighted share of what the question asks for ("what
  **top-1 accuracy** did ...", bot/query/focus.py) that a retrieved paper (the best one of them,
  or the first) names; 1 when it asks for nothing in particular. A near miss is on the topic and
  lacks the asked thing; ``late_focus``: how well the asked-for words find their match in the
  first paper's token vectors, as ``late_mean`` does for all of the question's words (a
  paraphrase: "speed-up" for "faster").
- ``focus_missing``: the rarest asked-for word the first paper lacks, relative to the rarest
  possible (0 when it lacks none): a near miss lacks a specific thing ("PSNR", "participants"),
  an answerable question at most a word for the kind of answer ("what factor ...");
- ``figure_focus``, ``figure_late_focus``, ``figure_sentence``: for a question that asks for a
  figure and names what ("what Dice score", "how many participants", bot/answer/sentences.py
  ``asks``; "what one-step FID", a measure by its head word, bot/query/focus.py
  ``names_a_measure``), ``focus_first``, ``late_focus``, and the largest share of the asked-for
  words in one sentence of the first paper that states a number; for any other question 1
  (``late_mean`` for ``figure_late_focus``). A near miss describes a paper that is there and asks
  a figure its abstract never gives; what a conceptual question names needs no number beside it.
  Fitted together, ``figure_sentence`` weighs for an answer and ``figure_focus`` against: a paper
  that names the asked thing and gives no figure beside it says less than one that words it
  otherwise. On the dev sets, leave-one-set-out, they raise the ROC AUC from 0.914 to 0.945 and
  cut confident answers to the v-set's near misses from 0.53 to 0.27.
- ``comparator_missing``: for a comparison question ("does it beat **FinBERT**", "how does it
  compare with **self-consistency decoding**", bot/query/comparison.py), the rarest word of the
  thing compared with that the first paper lacks, relative to the rarest possible; 0 for any
  other question (1 without a retrieved paper). A near miss describes a paper that is there and
  asks how it fares against something its abstract never names. Chosen by the fit since the
  x-set joined dev: leave-one-set-out ROC AUC 0.939 -> 0.944 on eight sets, and confident answers
  to the fresh sets' comparison near misses 0.24 -> 0.08. ``comparator_late``: how well
  the worst-matched word of that thing finds its match in the first paper's token vectors (a
  paraphrase, a misspelling); 1 for any other question (0 without a retrieved paper).

The fit (``python -m evals.fit.refusal``) chooses among named feature sets by leave-one-set-out
cross-validation on the dev questions (each set of questions, by one author, predicted by a model
fitted on the others); only the chosen ones are stored, with their weights, and only features of
non-zero weight are computed for a question (``RefusalModel.used``).

The model's similarities are those of the embedding model it was fitted with; with another
model (or the fake embedder of the tests) the answerer falls back to the single similarity
threshold ``retrieval.min_similarity``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from bot.answer.late_interaction import late_features
from bot.answer.sentences import asks, has_cue
from bot.fitted.models import FittedModel, check_features
from bot.query.comparison import compared_names
from bot.query.focus import asked_for, names_a_measure
from index.vocabulary import Vocabulary, content_sequence, content_stems, paper_text
from index.lexical import K1
from index.reader import LoadedIndex
from index.text import split_sentences
from index.settings import Settings
from bot.types import Hit

if TYPE_CHECKING:
    from bot.answer.evidence import Evidence

FEATURES = (
    "dense_top", "sentence_top", "coverage_top", "bm25_top", "dense_gap",
    "sentence_overlap", "bigram_coverage", "missing_top", "absent", "late_mean", "late_low",
    "focus_top", "focus_first", "late_focus", "focus_missing", "figure_focus", "figure_late_focus",
    "figure_sentence", "comparator_missing", "comparator_late",
)  # fmt: skip


@dataclass(frozen=True)
class RefusalModel(FittedModel):
    """p(answerable) = sigmoid(bias + sum(weight * (feature - mean) / scale)), over the features
    of non-zero weight (``used``): only those are computed for a question."""

    kind = "refusal"
    weights: dict[str, float]
    bias: float
    mean: dict[str, float]
    scale: dict[str, float]
    threshold: float  # answer when p >= threshold
    model: str  # the embedding model whose similarities it was fitted on
    # Below ``threshold`` and at least this: a tentative answer (the closest evidence, with a
    # caveat; with an LLM, the LLM judges). Below it: a refusal. None: no tentative band.
    tentative_threshold: float | None = None

    def __post_init__(self) -> None:
        check_features(self.weights, FEATURES)
        unscaled = [f for f in self.used if f not in self.mean or f not in self.scale]
        if unscaled:
            raise ValueError(f"no mean or scale for {unscaled}")
        if self.tentative_threshold is not None and self.tentative_threshold > self.threshold:
            raise ValueError(f"tentative_threshold {self.tentative_threshold} is above threshold {self.threshold}")

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * (features[f] - self.mean[f]) / self.scale[f] for f, w in self.weights.items() if w)
        return 1.0 / (1.0 + math.exp(-z))


def signals(
    index: LoadedIndex,
    question: str,
    hits: Sequence[Hit],
    evidence: Sequence["Evidence"],
    vocab: Vocabulary,
    settings: Settings,
    only: Sequence[str] | None = None,
) -> dict[str, float]:
    """The features of one question, whatever the retrieval mode: a retriever the mode skipped
    is asked for its best score here (one more search), so that the model reads the same
    signals in every mode. ``only``: just these features (a model's ``used``), each computed
    only if asked; all of FEATURES when None (the fit reads them all)."""
    names = FEATURES if only is None else tuple(only)
    check_features(names, FEATURES)
    asked = _Signals(index, question, hits, evidence, vocab, settings)
    return {name: getattr(asked, name)() for name in names}


@dataclass
class _Signals:
    """The signals of one question, a method each (named as in FEATURES). What several of them
    read (the chunk cosines, the question's stems, the late-interaction scores) is computed
    once, by the first signal asked for that needs it."""

    index: LoadedIndex
    question: str
    hits: Sequence[Hit]
    evidence: Sequence["Evidence"]
    vocab: Vocabulary
    settings: Settings

    @property
    def mode(self) -> str:
        return self.settings.retrieval.mode

    @cached_property
    def dense_scores(self) -> list[float]:
        """The retrieved chunks' cosines, best first (in BM25 mode, from a dense search of their own)."""
        if self.mode == "bm25":
            from bot.retrieval.search import CHUNKS_PER_PAPER

            found = self.index.dense(self.index.embed_query(self.question), 2 * CHUNKS_PER_PAPER)
            return sorted((e.similarity for e in found.values()), reverse=True)
        return sorted((h.dense for h in self.hits), reverse=True)

    @cached_property
    def stems(self) -> list[str]:
        return content_stems(self.question)

    @cached_property
    def total(self) -> float:
        """The question's content words' idf, summed."""
        return sum(self.vocab.idf(s) for s in self.stems)

    @cached_property
    def late(self) -> dict[str, float]:
        return late_features(self.index, self.question, self.hits, self.asked, self.compared)

    def dense_top(self) -> float:
        return self.dense_scores[0] if self.dense_scores else 0.0

    def dense_gap(self) -> float:
        scores = self.dense_scores
        return scores[0] - scores[1] if len(scores) > 1 else 0.0

    def sentence_top(self) -> float:
        return max((e.similarity for e in self.evidence), default=0.0)

    def coverage_top(self) -> float:
        return max((e.coverage for e in self.evidence), default=0.0)

    def sentence_overlap(self) -> float:
        return max((e.overlap for e in self.evidence), default=0.0)

    def bm25_top(self) -> float:
        if self.mode != "dense":
            lexical = max((h.lexical for h in self.hits), default=0.0)
        else:
            lexical = max(self.index.bm25(self.question, 1).values(), default=0.0)
        most = (K1 + 1) * self.total  # a BM25 term scores at most (k1 + 1) * idf
        return lexical / most if most else 0.0

    def bigram_coverage(self) -> float:
        ordered = content_sequence(self.question)
        pairs = set(zip(ordered, ordered[1:]))
        bigram = 0.0
        if pairs:
            for h in self.hits:
                seq = content_sequence(paper_text(h.paper))
                bigram = max(bigram, len(pairs & set(zip(seq, seq[1:]))) / len(pairs))
        return bigram

    @cached_property
    def paper_stems(self) -> list[set[str]]:
        """Each retrieved paper's content stems (title and abstract), in order."""
        if not self.hits:
            return []
        return [self.first_stems, *(set(content_stems(paper_text(h.paper))) for h in self.hits[1:])]

    def missing_top(self) -> float:
        rarest = self.vocab.idf("")  # a word no paper has
        missing = 1.0  # without hits too
        for have in self.paper_stems:
            lacked = [self.vocab.idf(s) for s in self.stems if s not in have]
            missing = min(missing, max(lacked, default=0.0) / rarest)
        return missing

    def absent(self) -> float:
        if not self.total:
            return 0.0
        return sum(self.vocab.idf(s) for s in self.stems if not self.vocab.df.get(s)) / self.total

    @cached_property
    def asked(self) -> str:
        """What the question asks for (bot/query/focus.py)."""
        return asked_for(self.question)

    @cached_property
    def focus_shares(self) -> list[float]:
        """For each retrieved paper, in order, the idf-weighted share of the asked-for words it has
        (none when the question asks for nothing in particular)."""
        return [self.vocab.coverage(self.focus, have) for have in self.paper_stems] if self.focus else []

    def focus_top(self) -> float:
        if not self.hits:
            return 0.0  # like every other signal without a paper
        return max(self.focus_shares, default=1.0)

    def focus_first(self) -> float:
        if not self.hits:
            return 0.0
        return self.focus_shares[0] if self.focus_shares else 1.0

    @cached_property
    def focus(self) -> list[str]:
        return content_stems(self.asked)

    def _rarest_missing(self, stems: Sequence[str]) -> float:
        """The rarest of ``stems`` the first paper lacks, relative to the rarest possible; 0 when
        it lacks none (a common word lacked, "baselines", says little; a rare one, a name, much)."""
        if not self.hits:
            return 1.0
        lacked = [self.vocab.idf(s) for s in stems if s not in self.first_stems]
        return max(lacked, default=0.0) / self.vocab.idf("")

    @cached_property
    def first_stems(self) -> set[str]:
        """The first paper's content stems: the near-miss signals read no other paper's."""
        return set(content_stems(paper_text(self.hits[0].paper)))

    def focus_missing(self) -> float:
        return self._rarest_missing(self.focus)

    @cached_property
    def compared(self) -> str:
        """What the question compares with, less the words that name nothing in particular."""
        return compared_names(self.question)

    def comparator_missing(self) -> float:
        if self.hits and not self.compared:
            return 0.0  # no comparison asked: no paper's words to read
        return self._rarest_missing(content_stems(self.compared))

    def comparator_late(self) -> float:
        return self.late["late_compared"]

    @cached_property
    def asks_figure(self) -> bool:
        """Whether the question asks for a figure and names what (its asked-for words)."""
        return bool(self.focus) and ("figure" in asks(self.question) or names_a_measure(self.asked))

    def figure_focus(self) -> float:
        return self.focus_first() if self.asks_figure else 1.0

    def figure_late_focus(self) -> float:
        return self.late_focus() if self.asks_figure else self.late_mean()

    def figure_sentence(self) -> float:
        if not self.hits:
            return 0.0
        if not self.asks_figure:
            return 1.0
        stated = [x for x in split_sentences(self.hits[0].paper.abstract) if has_cue(x, "figure")]
        return max((self.vocab.coverage(self.focus, set(content_stems(x))) for x in stated), default=0.0)

    def late_mean(self) -> float:
        return self.late["late_mean"]

    def late_low(self) -> float:
        return self.late["late_low"]

    def late_focus(self) -> float:
        return self.late["late_focus"]
