"""The lexical index: BM25 over each paper's title and abstract, with a Snowball stemmer
(stemming is worth ~2.5 nDCG points on SciFact). bm25s (its stopwords, at ingest) and
PyStemmer live here.

The index stores term counts, not scores: a term's postings (paper rows and counts) in
column order (CSC), plus each paper's length. Scores are computed at query time with
Lucene's BM25 — the formula bm25s uses, so the numbers equal bm25s' (tested) — which is
what makes ingest incremental: a new generation keeps the postings of unchanged papers and
tokenizes only new or changed ones, where bm25s would re-tokenize and re-score the whole
corpus (40 s of a 89 s one-percent add at 100k papers, profiled).

Files of ``bm25/``: ``paper_ids.json`` (row order), ``terms.json`` (term ids; a term whose
papers are all gone keeps its id with no postings), ``stopwords.json``, ``indptr.npy``, ``rows.npy``,
``counts.npy``, ``lengths.npy``. Readers memory-map them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from collections.abc import Callable
from pathlib import Path

import numpy as np

_IDS = "paper_ids.json"
_TERMS = "terms.json"
_STOPWORDS = "stopwords.json"
_ARRAYS = ("indptr", "rows", "counts", "lengths")
K1, B = 1.5, 0.75  # bm25s' defaults, and Lucene's


def _stemmer(language: str):
    if not language:
        return None
    import Stemmer

    return Stemmer.Stemmer(language)


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s' token pattern


def english_stopwords() -> frozenset[str]:
    """bm25s' English stopwords (ingest only: they are saved with the index, so that queries
    need not import bm25s and the scipy it pulls in, 0.4 s of a cold `paperbot ask`)."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def tokenize(texts: list[str], stemmer, stopwords: frozenset[str]) -> list[list[str]]:
    """Lower-cased words of two or more characters, stopwords removed, stemmed: bm25s'
    tokenization (tested against it)."""
    out = []
    for text in texts:
        words = [w for w in _TOKEN.findall(text.lower()) if w not in stopwords]
        out.append(stemmer.stemWords(words) if stemmer is not None and words else words)
    return out


class LexicalIndex:
    """BM25 scores for every paper of one index generation, rows in ``paper_ids`` order."""

    def __init__(
        self, paper_ids: list[str], terms: list[str], arrays: dict[str, np.ndarray], stemmer_language: str,
        stopwords: frozenset[str],
    ) -> None:  # fmt: skip
        self.paper_ids = paper_ids
        self.stopwords = stopwords
        self.terms = terms
        self._term_ids = {t: i for i, t in enumerate(terms)}
        self._indptr, self._rows, self._counts, self._lengths = (arrays[k] for k in _ARRAYS)
        self._stemmer = _stemmer(stemmer_language)
        self._norm: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        paper_ids: list[str],
        texts: Callable[[int], str],
        stemmer_language: str,
        previous: "LexicalIndex | None" = None,
        unchanged: Callable[[str], bool] = lambda _: False,
    ) -> "LexicalIndex":
        """The index of ``paper_ids`` (``texts(i)``: paper i's text). Papers of ``previous``
        for which ``unchanged(id)`` holds keep their postings; only the others are
        tokenized, so the work is in proportion to what changed (plus array copies)."""
        old_row = {pid: r for r, pid in enumerate(previous.paper_ids)} if previous is not None else {}
        reuse = {i: old_row[pid] for i, pid in enumerate(paper_ids) if pid in old_row and unchanged(pid)}
        terms = list(previous.terms) if previous is not None else []
        term_ids = {t: i for i, t in enumerate(terms)}
        # Postings as (term, row, count) triples: the previous generation's, renumbered to
        # the new rows (papers gone or changed dropped), then the newly tokenized papers'.
        parts_term, parts_row, parts_count = [], [], []
        if previous is not None and reuse:
            new_of_old = np.full(len(previous.paper_ids), -1, dtype=np.int64)
            new_of_old[list(reuse.values())] = list(reuse.keys())
            counts_per_term = np.diff(previous._indptr)
            term = np.repeat(np.arange(len(previous.terms), dtype=np.int64), counts_per_term)
            row = new_of_old[np.asarray(previous._rows, dtype=np.int64)]
            keep = row >= 0
            parts_term.append(term[keep])
            parts_row.append(row[keep])
            parts_count.append(np.asarray(previous._counts)[keep])
        todo = [i for i in range(len(paper_ids)) if i not in reuse]
        stemmer = _stemmer(stemmer_language)
        stopwords = previous.stopwords if previous is not None else english_stopwords()
        new_term, new_row, new_count = [], [], []
        for i, tokens in zip(todo, tokenize([texts(i) for i in todo], stemmer, stopwords)):
            bag: dict[int, int] = {}
            for t in tokens:
                tid = term_ids.get(t)
                if tid is None:
                    tid = term_ids[t] = len(terms)
                    terms.append(t)
                bag[tid] = bag.get(tid, 0) + 1
            new_term.extend(bag)
            new_row.extend([i] * len(bag))
            new_count.extend(bag.values())
        parts_term.append(np.asarray(new_term, dtype=np.int64))
        parts_row.append(np.asarray(new_row, dtype=np.int64))
        parts_count.append(np.asarray(new_count, dtype=np.float32))
        term = np.concatenate(parts_term)
        row = np.concatenate(parts_row)
        count = np.concatenate(parts_count).astype(np.float32)
        # The kept postings are already in term order: a stable sort only merges in the new.
        order = np.argsort(term, kind="stable")
        arrays = {
            "indptr": np.concatenate([[0], np.cumsum(np.bincount(term, minlength=len(terms)))]).astype(np.int64),
            "rows": row[order].astype(np.int32),
            "counts": count[order],
            "lengths": np.bincount(row, weights=count, minlength=len(paper_ids)).astype(np.float32),
        }
        return cls(list(paper_ids), terms, arrays, stemmer_language, stopwords)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        arrays = (self._indptr, self._rows, self._counts, self._lengths)
        for name, array in zip(_ARRAYS, arrays):
            np.save(path / f"{name}.npy", np.ascontiguousarray(array))
        (path / _TERMS).write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        (path / _STOPWORDS).write_text(json.dumps(sorted(self.stopwords)))
        (path / _IDS).write_text(json.dumps(self.paper_ids))

    @classmethod
    def load(cls, path: Path, stemmer_language: str) -> "LexicalIndex":
        arrays = {k: np.load(path / f"{k}.npy", mmap_mode="r") for k in _ARRAYS}
        terms = json.loads((path / _TERMS).read_text(encoding="utf-8"))
        saved = path / _STOPWORDS
        stopwords = frozenset(json.loads(saved.read_text())) if saved.is_file() else english_stopwords()
        return cls(json.loads((path / _IDS).read_text()), terms, arrays, stemmer_language, stopwords)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every paper for the query (0 where no query term occurs). A term
        repeated in the query counts once per occurrence, as in bm25s."""
        return self.match(query).scores

    def match(self, query: str) -> "LexicalMatch":
        """BM25 scores of every paper, and how much of the query each paper contains."""
        n = len(self.paper_ids)
        out = np.zeros(n, dtype=np.float32)
        tokens = tokenize([query], self._stemmer, self.stopwords)[0]
        ids = [self._term_ids[t] for t in tokens if t in self._term_ids]
        result = LexicalMatch(out, tokens, self)
        if not ids or n == 0:
            return result
        if self._norm is None:  # per paper, the length part of BM25's denominator
            lengths = np.asarray(self._lengths)
            self._norm = (K1 * ((1 - B) + B * lengths / max(float(lengths.mean()), 1e-9))).astype(np.float32)
        for tid in ids:
            start, end = int(self._indptr[tid]), int(self._indptr[tid + 1])
            if start == end:
                continue
            rows = self._rows[start:end]
            counts = self._counts[start:end]
            idf = self.idf(tid)
            out[rows] += (idf * counts / (self._norm[rows] + counts)).astype(np.float32)
        return result

    def matched(self, terms: list[str]) -> np.ndarray:
        """Per paper, the summed idf of the distinct ``terms`` it contains."""
        out = np.zeros(len(self.paper_ids), dtype=np.float32)
        for tid in dict.fromkeys(self._term_ids[t] for t in terms if t in self._term_ids):
            start, end = int(self._indptr[tid]), int(self._indptr[tid + 1])
            if start < end:
                out[self._rows[start:end]] += self.idf(tid)
        return out

    def idf(self, term_id: int) -> float:
        """Lucene's idf of a term (of a term no paper has: the highest)."""
        n = len(self.paper_ids)
        df = int(self._indptr[term_id + 1] - self._indptr[term_id]) if term_id >= 0 else 0
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def term_id(self, term: str) -> int:
        return self._term_ids.get(term, -1)

    def tokens(self, text: str) -> list[str]:
        """The index's terms of ``text`` (tokenized, stopwords dropped, stemmed)."""
        return tokenize([text], self._stemmer, self.stopwords)[0]


@dataclass(frozen=True)
class LexicalMatch:
    """One query against the lexical index: BM25 ``scores`` and ``matched`` (the summed idf of
    the query's distinct terms each paper contains), rows in the index's paper order."""

    scores: np.ndarray
    terms: list[str]  # the query's terms, repeats kept
    index: LexicalIndex

    @cached_property
    def matched(self) -> np.ndarray:
        # Only learned fusion reads it: a plain search does not pay for it.
        return self.index.matched(self.terms)

    @cached_property
    def idfs(self) -> dict[str, float]:
        """The idf of each of the query's distinct terms, known to the corpus or not."""
        return {t: self.index.idf(self.index.term_id(t)) for t in dict.fromkeys(self.terms)}

    @property
    def total_idf(self) -> float:
        return sum(self.idfs.values())
