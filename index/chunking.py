"""Split abstracts into chunks that fit the embedding model's input, title in each."""

from __future__ import annotations

from collections.abc import Callable

from index.settings import IndexSettings
from index.types import Chunk, Paper
from index.text import split_sentences

TokenCounter = Callable[[list[str]], list[int]]
SPECIAL_TOKENS = 2  # [CLS] and [SEP], added once per chunk by the model


def _split_long(sentence: str, tokens: int, budget: int, count_tokens: TokenCounter) -> list[tuple[str, int]]:
    """A sentence longer than the budget (a run-on, or a list of numbers) is cut into word
    spans, so the model never silently drops its tail; a span that still does not fit (words
    of many pieces) is halved until it does. Each part with its token count."""
    words = sentence.split()
    pieces = max(2, -(-tokens // max(budget, 1)))
    step = -(-len(words) // pieces)
    spans = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
    return [part for span, n in zip(spans, count_tokens(spans)) for part in _fit(span, n, budget, count_tokens)]


def _fit(text: str, tokens: int, budget: int, count_tokens: TokenCounter) -> list[tuple[str, int]]:
    """``text`` (``tokens`` long) halved, by words or else by characters (a pasted hash or
    formula is one long "word"), until every part fits ``budget``; each part with its token
    count."""
    if tokens <= budget or len(text) < 2:
        return [(text, tokens)]
    words = text.split()
    halves = (
        [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])]
        if len(words) > 1
        else [text[: len(text) // 2], text[len(text) // 2 :]]
    )
    return [part for half, n in zip(halves, count_tokens(halves)) for part in _fit(half, n, budget, count_tokens)]


def chunk_paper(paper: Paper, count_tokens: TokenCounter, chunk_tokens: int, overlap: int) -> list[Chunk]:
    """Greedy packing of whole sentences up to ``chunk_tokens`` (title tokens included),
    repeating the last ``overlap`` sentences at the start of the next chunk."""
    prefix = f"{paper.title}. " if paper.title else ""
    title_tokens = count_tokens([prefix])[0] if prefix else 0
    most = (chunk_tokens - SPECIAL_TOKENS) // 2
    if title_tokens > most:
        # A title longer than half a chunk (a paste or a parse gone wrong) keeps its head: the
        # abstract needs the room, and every chunk must fit the model whole.
        prefix = _fit(prefix, title_tokens, most, count_tokens)[0][0].rstrip() + " "
        title_tokens = count_tokens([prefix])[0]
    budget = chunk_tokens - SPECIAL_TOKENS - title_tokens

    sentences = split_sentences(paper.abstract)
    counts = count_tokens(sentences)
    units: list[tuple[str, int]] = []
    for sentence, n in zip(sentences, counts):
        if n > budget:
            units.extend(_split_long(sentence, n, budget, count_tokens))
        else:
            units.append((sentence, n))

    spans: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    for unit in units:
        if current and sum(n for _, n in current) + unit[1] > budget:
            spans.append(current)
            # Overlap only if the carried sentences leave room for new text.
            carried = current[-overlap:] if overlap else []
            while carried and sum(n for _, n in carried) + unit[1] > budget:
                carried = carried[1:]
            current = list(carried)
        current.append(unit)
    if current:
        spans.append(current)

    return [
        Chunk(
            id=f"{paper.id}:{i}",
            paper_id=paper.id,
            position=i,
            text=prefix + " ".join(s for s, _ in span),
        )
        for i, span in enumerate(spans)
    ]


def embedded_chunks(paper: Paper, count_tokens: TokenCounter, settings: IndexSettings) -> list[Chunk]:
    """The chunks of ``paper`` that ingest embeds: the first ``max_chunks`` (0: all). BM25
    reads the whole abstract either way."""
    chunks = chunk_paper(paper, count_tokens, settings.chunk_tokens, settings.chunk_overlap_sentences)
    return chunks[: settings.max_chunks or None]
