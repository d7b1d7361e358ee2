"""The corpus's words: what a text's content words are, how many papers contain each stem,
and which spellings the corpus knows (with their counts). The answer side reads it
(through ``LoadedIndex.vocabulary``: sentence scoring, the refusal model, spelling).

Computed at ingest and saved in the generation (``vocabulary.json``), so a reader's first
question does not tokenize every paper (~12 s at 100k papers). Document frequencies and word
counts are sums over papers, so an ingest updates the previous generation's vocabulary by
subtracting the papers gone or changed and adding the new ones: the work is in proportion to
what changed. A generation without the file (built by an older paperbot), or with another
``VERSION``, is read by building the vocabulary from its papers instead.

Deliberately independent of the BM25 index's tokenizer (index/lexical.py): these are
answer-side signals, and a light suffix-stripper is enough to match "models" with "model"."""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from index.types import Paper

FILE = "vocabulary.json"
VERSION = 1  # bump when ``words`` or ``stem`` change: saved vocabularies are then rebuilt

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


def paper_text(paper: Paper) -> str:
    """What the vocabulary reads of a paper: its title and abstract."""
    return f"{paper.title}\n{paper.abstract}"


def _tally(texts: Iterable[str]) -> tuple[int, Counter[str], Counter[str]]:
    """(texts, papers containing each stem, occurrences of each word)."""
    df: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    n = 0
    for text in texts:
        n += 1
        ws = words(text)
        counts.update(ws)
        df.update({stem(w) for w in set(ws)})
    return n, df, counts


@dataclass(frozen=True)
class Vocabulary:
    """Document frequencies of stems over the papers, and the raw words with their counts."""

    papers: int
    df: dict[str, int]  # stem -> papers containing it
    counts: dict[str, int]  # word -> occurrences in the corpus (for spelling)

    @classmethod
    def build(cls, texts: Iterable[str]) -> "Vocabulary":
        n, df, counts = _tally(texts)
        return cls(n, dict(df), dict(counts))

    def updated(self, removed: Iterable[str], added: Iterable[str]) -> "Vocabulary":
        """This vocabulary without the texts ``removed`` (texts it was built from) and with
        ``added``: equal to a build from the resulting texts, in time proportional to the
        texts named (plus a copy of the two dicts)."""
        n_gone, df_gone, counts_gone = _tally(removed)
        n_new, df_new, counts_new = _tally(added)
        return Vocabulary(
            self.papers - n_gone + n_new, _sum(self.df, df_gone, df_new), _sum(self.counts, counts_gone, counts_new)
        )

    def idf(self, stem_: str) -> float:
        """BM25's idf: a stem no paper has gets the highest weight (it is what is missing)."""
        d = self.df.get(stem_, 0)
        return math.log(1 + (self.papers - d + 0.5) / (d + 0.5))

    def coverage(self, question_stems: list[str], text_stems: set[str]) -> float:
        """Share of the question's content (idf-weighted) that ``text_stems`` contain."""
        total = sum(self.idf(s) for s in question_stems)
        return sum(self.idf(s) for s in question_stems if s in text_stems) / total if total else 0.0

    def save(self, folder: Path) -> None:
        """Write ``folder/vocabulary.json``: one JSON object, keys sorted, so that a vocabulary
        updated by difference and one built from scratch write the same file. Loads in ~0.03 s
        at 100k papers (1 MB), ~0.35 s for 300k distinct words."""
        data = {"version": VERSION, "papers": self.papers, "df": self.df, "counts": self.counts}
        (folder / FILE).write_text(json.dumps(data, separators=(",", ":"), sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "Vocabulary | None":
        """The vocabulary saved in ``folder``; None when there is none of this ``VERSION``."""
        try:
            data = json.loads((folder / FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        if data.get("version") != VERSION:
            return None
        return cls(data["papers"], data["df"], data["counts"])


def _sum(base: dict[str, int], minus: Counter[str], plus: Counter[str]) -> dict[str, int]:
    out = dict(base)
    for key, n in minus.items():
        left = out[key] - n
        if left:
            out[key] = left
        else:
            del out[key]  # as a build from the remaining texts: no zero entries
    for key, n in plus.items():
        out[key] = out.get(key, 0) + n
    return out


def vocabulary_of(
    papers: list[Paper],
    previous: Vocabulary | None = None,
    previous_papers: Iterable[Paper] = (),
    unchanged: Callable[[str], bool] = lambda _: False,
) -> Vocabulary:
    """The vocabulary of ``papers``. With ``previous`` (the vocabulary of ``previous_papers``),
    only papers for which ``unchanged(id)`` does not hold are read: the previous papers'
    old text is taken out, the new papers' text is put in (the lexical index's pattern)."""
    previous_papers = list(previous_papers)
    if previous is None or previous.papers != len(previous_papers):  # not theirs: start over
        return Vocabulary.build(map(paper_text, papers))
    return previous.updated(
        removed=(paper_text(p) for p in previous_papers if not unchanged(p.id)),
        added=(paper_text(p) for p in papers if not unchanged(p.id)),
    )
