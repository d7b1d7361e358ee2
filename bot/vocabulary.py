"""The vocabulary of the loaded generation, shared by sentence scoring (bot/answer/sentences.py),
answerability (bot/answer/refusal.py) and spelling (bot/query/spelling.py). What it is and how it is
computed lives in index/vocabulary.py; its names are re-exported here for the answer side."""

from __future__ import annotations

import threading
import weakref

from index.reader import LoadedIndex
from index.vocabulary import (
    STOPWORDS,
    Vocabulary,
    content_sequence,
    content_stems,
    paper_text,
    stem,
    words,
)

__all__ = ["STOPWORDS", "Vocabulary", "content_sequence", "content_stems", "paper_text", "stem", "vocabulary", "words"]

_cache: "weakref.WeakKeyDictionary[LoadedIndex, Vocabulary]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def vocabulary(index: LoadedIndex) -> Vocabulary:
    """The vocabulary of one index generation, kept while that generation is loaded (a new
    generation, after an ingest, gets its own). Read from the file the ingest saved (~0.03 s at
    100k papers); a generation built by an older paperbot has none, and its vocabulary is built
    from its papers instead (~12 s at 100k papers)."""
    with _lock:
        v = _cache.get(index)
        if v is None:
            v = Vocabulary.load(index.generation.path)
            if v is None:
                v = Vocabulary.build(map(paper_text, index.papers.values()))
            _cache[index] = v
        return v
