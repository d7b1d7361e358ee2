"""The corpus's words: what a question's content words are, how rare each is in the index, and
which spellings the index knows. Built from the loaded generation's papers (the titles and
abstracts its chunks are cut from) once per generation, and shared by sentence scoring
(bot/sentences.py), answerability (bot/answerability.py) and spelling (bot/spelling.py).

Deliberately independent of the BM25 index's tokenizer (index/lexical.py): these are
answer-side signals, and a light suffix-stripper is enough to match "models" with "model"."""

from __future__ import annotations

import functools
import math
import re
import threading
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from index.loaded import LoadedIndex

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")

# English function words, plus the words of a question that ask rather than say what about
# ("which papers...", "is there work on...", "how much"): they match any abstract.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any anyone anything are around as at be
    because been before being below between both but by can could did do does doing done down during
    each either else etc ever few for from further get gets got had has have having he her here hers
    him his how however i if in into is it its itself just know like made make makes many may me might
    more most much must my need no nor not now of off on once one only or other our ours out over own
    per please same she should so some such than that the their theirs them then there these they
    this those through to too under until up upon us use used uses using very via vs w was way ways we
    were what whats when where whether which while who whom whose why will with within without would
    yet you your yours
    paper papers work works study studies approach approaches method methods anybody someone something
    show shows showed shown find found does did get tell give known recent recently new actually really
    exist exists existing look looks looked looking argue argues argued argument cut idea ideas
    """.split()
)


@functools.lru_cache(maxsize=1 << 18)  # a corpus has far fewer distinct words than occurrences
def stem(word: str) -> str:
    """A light English suffix-stripper (plurals, -ing, -ed): enough to match word forms
    between a question and an abstract without the BM25 index's stemmer."""
    if len(word) <= 3 or word[0].isdigit():
        return word
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ied", "y"), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: -len(suffix)] + repl
    return word


def words(text: str) -> list[str]:
    """Lower-cased words and numbers of ``text`` (LaTeX escapes and hyphens split words)."""
    return _WORD.findall(text.lower().replace("\\", " "))


def content_sequence(text: str) -> list[str]:
    """The stems of the words that say what ``text`` is about, in order, repeats kept."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


def content_stems(text: str) -> list[str]:
    """The stems of the words that say what ``text`` is about, in order, each once."""
    return list(dict.fromkeys(content_sequence(text)))


@dataclass(frozen=True)
class Vocabulary:
    """Document frequencies of stems over the papers, and the raw words with their counts."""

    papers: int
    df: dict[str, int]  # stem -> papers containing it
    counts: dict[str, int]  # word -> occurrences in the corpus (for spelling)

    @classmethod
    def build(cls, texts: Iterable[str]) -> "Vocabulary":
        df: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            ws = words(text)
            counts.update(ws)
            df.update({stem(w) for w in set(ws)})
        return cls(n, dict(df), dict(counts))

    def idf(self, stem_: str) -> float:
        """BM25's idf: a stem no paper has gets the highest weight (it is what is missing)."""
        d = self.df.get(stem_, 0)
        return math.log(1 + (self.papers - d + 0.5) / (d + 0.5))

    def coverage(self, question_stems: list[str], text_stems: set[str]) -> float:
        """Share of the question's content (idf-weighted) that ``text_stems`` contain."""
        total = sum(self.idf(s) for s in question_stems)
        return sum(self.idf(s) for s in question_stems if s in text_stems) / total if total else 0.0


_cache: "weakref.WeakKeyDictionary[LoadedIndex, Vocabulary]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def vocabulary(index: LoadedIndex) -> Vocabulary:
    """The vocabulary of one index generation, built on first use (~0.2 s for 400 papers) and
    kept while that generation is loaded: a new generation (an ingest) gets its own."""
    with _lock:
        v = _cache.get(index)
        if v is None:
            v = Vocabulary.build(f"{p.title}\n{p.abstract}" for p in index.papers.values())
            _cache[index] = v
        return v
