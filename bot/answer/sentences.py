"""Which sentences of an abstract answer the question: the extractive answerer's choice.

Topical similarity alone picks the sentence that restates the question's topic; the asked
detail (a figure, a name, a comparison, a method) often sits in the next sentence. So a
sentence's score adds to its embedding similarity the share of the question's content words
it contains (idf-weighted) and a cue for the kind of answer asked for:

    score = similarity + overlap_weight * overlap + type_weight * cue + contribution_bonus * [contribution]
            + specificity_weight * specificity + focus_weight * focus - background_penalty * [background]

Similarity and overlap favour the sentences that restate the question's topic, yet what was
asked is usually the specific detail the question does not already say: a named component
("LSBlock", "identity-based initialization"), a figure ("6.6x"). So a sentence scores for the
specific terms it adds to the question (specificity), and the abstract's scene-setting (its
opening sentence, "In recent years ...", "X has attracted attention") scores less.

The similarity is to what the question asks when it first describes the paper it means
(bot/query/focus.py ``asking_part``; bot/answer/evidence.py). The weights are AnswerSettings
fields, chosen on the dev questions (python -m evals.fit.answer)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.query.focus import asked_for
from index.vocabulary import Vocabulary, content_stems, words
from index.settings import AnswerSettings

# What the question asks for, each with the sentences that can answer it.
_ASKS = {
    "figure": re.compile(
        r"\bhow (many|much|fast|large|big|long|deep|often|well|small|far)\b|\bby how\b|\bwhat (share|fraction|"
        r"percentage|proportion|accuracy|score|speed-?up|rate|number|size|scale)\b|\bhow .{0,20}\b(faster|"
        r"smaller|cheaper|fewer|better)\b|\b(accuracy|speed-?up|score[ds]?|percent|rate|reduction|gain|"
        r"improvement|error|perplexity|bleu|f1|auc)\b",
        re.IGNORECASE,
    ),
    "name": re.compile(
        r"\b(which|what) (paper|method|model|benchmark|dataset|algorithm|approach|framework|system|tool|"
        r"technique|architecture|loss|metric|library|task)s?\b|\b(called|named|name)\b|"
        # Looking for a paper is asking for a name: the method or system it introduces.
        r"^\W*(is|are) there\b|^\W*any(one|body)?\b|\b(papers?|work|research) (on|that|about|where)\b",
        re.IGNORECASE,
    ),
    "comparison": re.compile(
        r"\b(compare[ds]?|comparison|versus|vs\.?|than|outperform\w*|better|worse|against|differ\w*|beat)\b",
        re.IGNORECASE,
    ),
    "method": re.compile(
        r"^\W*how (do|does|did|can|could|to|is|are)\b|\bwhat (method|approach|technique|mechanism|trick|idea|"
        r"objective|loss|strategy)\b|\b(a |the )?way to\b|"
        # "how many ... were trained" asks for a figure, not how they were trained.
        r"\bhow\b(?!\s+(many|much)\b).{0,40}\b(work|train|achiev|handle|avoid)",
        re.IGNORECASE,
    ),
}
_CUES = {
    # A number that is a result (with a unit, a percentage, a multiple) rather than a year or section.
    "figure": re.compile(
        r"\d+(\.\d+)?\s*(\\?%|x\b|×|times|fold|-fold|points?|pp\b|[kmb]\b|bits?|layers?|tokens|hours|"
        r"days|gpus?|params|parameters)|\b\d+(\.\d+)?\b(?!\s*\))",
        re.IGNORECASE,
    ),
    "name": re.compile(r"\b(called|named|dubbed|termed|coined)\b|\b[A-Z][a-z]*[A-Z]\w*|\b[A-Z]{2,}\w*"),
    "comparison": re.compile(
        r"\b(than|outperform\w*|compared|versus|vs\.?|surpass\w*|better|worse|superior|improv\w*|faster|"
        r"slower|fewer|beat\w*|match\w*|competitive)\b",
        re.IGNORECASE,
    ),
    "method": re.compile(
        r"\b(we (propose|introduce|present|develop|design)|by (using|training|introducing|adding)|via|"
        r"leverag\w*|consists? of|based on|framework|algorithm)\b",
        re.IGNORECASE,
    ),
}
# Where to get the code or data: never an answer, so never an extra sentence of a quote.
BOILERPLATE = re.compile(
    r"https?://|github\.com|\b(code|codes|data|dataset|models?|implementation)s?\b.{0,40}\b(is|are|will be)\s+"
    r"(publicly |freely |made )?(available|released|open-sourced)",
    re.IGNORECASE,
)
# Specific terms: a mixed-case or all-caps name (LSBlock, FreeV, HACL*), a hyphenated term
# (identity-based, dual-codebook), a figure with a unit (72%, 6.6x, two-fold is hyphenated).
SPECIFIC = re.compile(
    r"\b[A-Za-z]*[a-z][A-Z]\w*|\b[A-Z]{2,}\w*|\b\w+(-\w+)+\b|\d+(\.\d+)?\s*(\\?%|x\b|×|times\b|fold\b)"
)
SPECIFIC_TERMS = 3  # a sentence with this many specific terms new to the question scores in full
# The field's background rather than the paper's answer: how an abstract sets the scene.
BACKGROUND = re.compile(
    r"^\W*(recently|in recent years|over the (past|last)|nowadays|traditionally|despite|although|while|however|"
    r"existing|prior|previous|current|most|many|conventional)\b|"
    r"\b(has|have) (attracted|gained|received|drawn|emerged|become|shown (great|remarkable|impressive|promising)|"
    r"achieved (remarkable|impressive|great|tremendous))|\b(is|are) (a |an )?(promising|popular|powerful|"
    r"widely used|crucial|critical|essential|fundamental|important)\b",
    re.IGNORECASE,
)
# Sentences that state what a paper does, rather than the field's background.
CONTRIBUTION = re.compile(
    r"\b(we|our|this (paper|work|study))\b.{0,40}\b(propose|introduce|present|show|find|develop|"
    r"achiev|demonstrat|design|reveal|outperform)",
    re.IGNORECASE,
)


def specificity(text: str, question: str) -> float:
    """The share of ``SPECIFIC_TERMS`` distinct specific terms in the sentence that the question
    does not already say (a question about YOLO is not answered by the word "YOLO")."""
    said = {w.lower() for w in re.findall(r"[\w.*-]+", question)}
    terms = {m.group(0).lower() for m in SPECIFIC.finditer(text)} - said
    return min(len(terms), SPECIFIC_TERMS) / SPECIFIC_TERMS


def background(text: str, position: int) -> bool:
    """Whether the sentence sets the scene: the abstract's first, or one that reads like it."""
    return position == 0 or bool(BACKGROUND.search(text))


def has_cue(text: str, kind: str) -> bool:
    """Whether ``text`` reads like an answer of ``kind`` (a figure: a number that is a result)."""
    return bool(_CUES[kind].search(text))


def asks(question: str) -> frozenset[str]:
    """The kinds of answer the question asks for: figure, name, comparison, method (or none)."""
    return frozenset(kind for kind, pattern in _ASKS.items() if pattern.search(question))


@dataclass(frozen=True)
class Scored:
    """One sentence of a paper, with what its score is made of."""

    text: str
    position: int  # in the abstract
    similarity: float  # cosine to what the question asks (bot/answer/evidence.py)
    overlap: float  # idf-weighted share of the question's content words in the sentence
    cue: float  # the share of the kinds of answer asked for that the sentence has
    score: float
    specificity: float = 0.0  # the specific terms it adds to the question (see specificity)


def score_sentences(
    question: str,
    sentences: list[str],
    similarities: list[float],
    vocab: Vocabulary,
    s: AnswerSettings,
    kinds: frozenset[str] | None = None,
) -> list[Scored]:
    """Every sentence scored, best first (ties keep the abstract's order)."""
    kinds = asks(question) if kinds is None else kinds
    q_stems = content_stems(question)
    focus = content_stems(asked_for(question))  # what it asks for, when it names it
    out = []
    for i, (text, sim) in enumerate(zip(sentences, similarities)):
        stems = set(content_stems(text))
        overlap = vocab.coverage(q_stems, stems)
        # The share of the asked kinds the sentence has: "how many ... which fuzzer" wants the
        # figure and the name, and a sentence with only the name is half an answer.
        cue = sum(1.0 for k in kinds if has_cue(text, k)) / len(kinds) if kinds else 0.0
        bonus = s.contribution_bonus if CONTRIBUTION.search(text) else 0.0
        specific = specificity(text, question)
        penalty = s.background_penalty if background(text, i) else 0.0
        score = float(sim) + s.overlap_weight * overlap + s.type_weight * cue + bonus
        if focus and s.focus_weight:
            score += s.focus_weight * vocab.coverage(focus, stems)
        score += s.specificity_weight * specific - penalty
        out.append(Scored(text, i, float(sim), overlap, cue, score, specific))
    return sorted(out, key=lambda x: (-x.score, x.position))


def pick(scored: list[Scored], s: AnswerSettings, max_sentences: int) -> list[Scored]:
    """The paper's quote: its best sentence, then the next best ones that keep the quote within
    ``max_words`` words (the best one alone may be longer), at most ``max_sentences``, never a
    "code is available at" sentence; in the abstract's order. (Requiring the extra sentences to
    score near the best one lost facts on dev.)"""
    if not scored:
        return []
    chosen = [scored[0]]
    length = len(words(scored[0].text))
    for cand in scored[1:]:
        if len(chosen) >= max_sentences:
            break
        n = len(words(cand.text))
        if length + n > s.max_words or BOILERPLATE.search(cand.text):
            continue
        chosen.append(cand)
        length += n
    return sorted(chosen, key=lambda x: x.position)
