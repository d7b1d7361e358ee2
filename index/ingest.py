"""Ingest: papers -> chunks -> embeddings -> a new index generation.

``ingest_papers`` is the entry point for papers from any source (next, the arXiv feed and
``paperbot add``); ``ingest`` reads files (``index.sources``) and hands their papers to it. All input is
parsed and checked before anything is written, so bad input leaves the existing index
untouched. Embeddings come from the content-hash cache when the same text was embedded
before; only new or changed chunks reach the model."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from index.errors import BadInput
from index.settings import Settings, index_fingerprint
from index.types import Chunk, Paper
from index import layout
from index.embedding.cache import EmbeddingCache
from index.chunking import embedded_chunks
from index.embedding.embedders import Embedder, IngestEmbedder, exported_onnx, load_ingest_embedder
from index.lexical import LexicalIndex
from index.vocabulary import Vocabulary, vocabulary_of
from index.papers import merge_papers
from index.sources.checks import checked_papers
from index.sources.registry import expand_paths, read_papers
from index.vectors.base import read_chunks, write_chunks
from index.vectors.exact import stored_vectors
from index.vectors.registry import load_vector_store


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did; ``paperbot ingest --json`` prints these fields."""

    files: int  # files read (0 for papers given in memory)
    records: int  # papers read or given, before duplicates were merged
    papers: int
    new_papers: int
    changed_papers: int
    chunks: int
    embedded: int  # chunks that went through the model (not from the cache)
    seconds: float
    generation: str
    unchanged: bool
    removed: int = 0

    def summary(self) -> str:
        if self.removed and not (self.new_papers or self.changed_papers):
            return (
                f"Removed {self.removed} paper(s); {self.papers} left, {self.chunks} chunks "
                f"({self.generation})."
            )
        files = f"{self.files} file(s)" if self.files else ""  # none: papers given in memory
        if self.unchanged:
            return (
                f"Nothing new: {self.records} records{f' from {files}' if files else ''} are already "
                f"in the index ({self.papers} papers). Nothing was embedded."
            )
        return (
            f"Indexed {self.papers} papers ({self.new_papers} new, {self.changed_papers} updated"
            f"{f', {self.removed} removed' if self.removed else ''}) "
            f"from {self.records} records{f' in {files}' if files else ''}: {self.chunks} chunks, "
            f"{self.embedded} embedded now, {self.chunks - self.embedded} from cache, "
            f"{self.seconds:.1f}s ({self.generation})."
        )


def read_inputs(paths: list[Path]) -> tuple[list[Path], list[Paper]]:
    files = expand_paths(paths)
    records: list[Paper] = []
    for f in files:
        records.extend(read_papers(f))
    return files, records


def _embed_missing(
    chunks: list[Chunk],
    embedder: Embedder,
    cache: EmbeddingCache,
    batch_size: int,
    progress: bool,
) -> tuple[np.ndarray, int]:
    """Vectors for all chunks, in order; returns how many had to be computed."""
    from tqdm import tqdm

    texts = [c.text for c in chunks]
    found = cache.get_many(texts)
    missing = list(dict.fromkeys(t for t in texts if t not in found))
    if missing and isinstance(embedder, IngestEmbedder):
        embedder.plan(len(missing))
    with tqdm(
        total=len(missing), desc="Embedding", unit="chunk", disable=not progress or not missing
    ) as bar:
        # Commit to the cache batch by batch: an interrupted ingest resumes where it stopped.
        step = batch_size * 8
        for i in range(0, len(missing), step):
            part = missing[i : i + step]
            vecs = embedder.embed(part, batch_size=batch_size)
            cache.put_many(part, vecs)
            found.update(zip(part, vecs))
            bar.update(len(part))
    return np.stack([found[t] for t in texts]) if texts else np.zeros((0, embedder.dim)), len(missing)


def ingest(
    settings: Settings,
    paths: list[Path] | None = None,
    progress: bool = False,
    embedder: Embedder | None = None,
    log: Callable[[str], None] = lambda _: None,
    wait: bool = False,
) -> IngestReport:
    """Add the papers in the files ``paths`` (default: the configured corpus) to the index:
    ``ingest_papers`` of what ``index.sources`` reads from them."""
    start = time.perf_counter()
    files, records = read_inputs(paths or settings.index.corpus)
    report = ingest_papers(settings, records, source="files", progress=progress, log=log, wait=wait, embedder=embedder)
    return replace(report, files=len(files), seconds=time.perf_counter() - start)


def ingest_papers(
    settings: Settings,
    papers: Iterable[Paper],
    *,
    source: str = "papers given",
    progress: bool = False,
    log: Callable[[str], None] = lambda _: None,
    wait: bool = False,
    embedder: Embedder | None = None,
    removed: Iterable[str] = (),
) -> IngestReport:
    """Add ``papers`` to the index as one new generation: the entry point for every source
    (files through ``ingest``, the arXiv feed and ``paperbot add``). Duplicates merge
    (``index.papers``); a known paper id with a different abstract replaces the paper (its
    old chunks go); papers already there as they are change nothing. The papers ``removed``
    names (arXiv's deleted records) leave in the same generation; unknown ids among them
    change nothing, and none is removed when that would leave the index empty. Every paper is
    checked first (``index.sources.checks``): a bad one is a BadInput named by its first source
    or by ``source`` and its position, and nothing is written. ``log`` hears waits and
    rebuilds; ``wait`` queues behind a running ingest instead of failing."""
    start = time.perf_counter()
    records = checked_papers(papers, source)
    gone = set(removed)
    index_dir = settings.index_dir
    if not records and layout.current_name(index_dir) is None:
        raise BadInput(f"{source}: no papers, and {index_dir} has none yet; nothing was written (give at least one).")

    with layout.ingest_lock(index_dir, _waiter(index_dir, log) if wait else None):
        layout.discard_incomplete(index_dir)
        current = layout.current_generation(index_dir)
        existing = current.papers() if current else []
        merged = merge_papers(existing, records)
        if gone:
            kept = [p for p in merged if p.id not in gone]
            if not kept:
                log(f"{source}: removing {len(merged)} paper(s) would leave the index empty; none was removed.")
            merged = kept or merged
        before = {p.id: p for p in existing}
        new = sum(1 for p in merged if p.id not in before)
        changed = sum(1 for p in merged if p.id in before and before[p.id] != p)
        dropped = len(before) + new - len(merged)
        same_settings = current is not None and current.manifest()["settings"] == index_fingerprint(settings)
        if current is not None and same_settings and not new and not changed and not dropped:
            # Same papers, same settings: skip loading the model at all (but finish any
            # cleanup a crashed or leased-over ingest left).
            layout.collect_garbage(index_dir)
            _prune_vectors(settings)
            return IngestReport(
                0, len(records), len(merged), 0, 0,
                current.manifest()["chunks"], 0, time.perf_counter() - start, current.path.name, True,
            )  # fmt: skip
        if current is not None and not same_settings:
            log("Settings or model changed since the last ingest: re-chunking every paper.")
        previous = current if same_settings else None  # built alike: only the difference is work
        gen, n_chunks, embedded = _write_generation(settings, merged, embedder, progress, previous, existing)
    return IngestReport(
        0, len(records), len(merged), new, changed, n_chunks, embedded,
        time.perf_counter() - start, gen, False, removed=dropped,
    )  # fmt: skip


def remove(
    settings: Settings, ids: list[str], embedder: Embedder | None = None, wait: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> IngestReport:  # fmt: skip
    """A new generation without the papers ``ids``; unknown ids change nothing."""
    start = time.perf_counter()
    index_dir = settings.index_dir
    with layout.ingest_lock(index_dir, _waiter(index_dir, log) if wait else None):
        layout.discard_incomplete(index_dir)
        current = layout.require_generation(index_dir)
        papers = current.papers()
        known = {p.id for p in papers}
        unknown = [i for i in dict.fromkeys(ids) if i not in known]
        if unknown:
            raise BadInput(
                f"No paper with id {', '.join(unknown)} in {index_dir}; nothing was removed "
                "(`paperbot search --json QUERY` shows paper ids)."
            )
        kept = [p for p in papers if p.id not in set(ids)]
        if not kept:
            raise BadInput(
                f"Removing every paper would leave {index_dir} empty; nothing was removed "
                f"(delete the folder {index_dir} to start over)."
            )
        same = current.manifest()["settings"] == index_fingerprint(settings)
        gen, n_chunks, embedded = _write_generation(
            settings, kept, embedder, False, current if same else None, papers
        )
    return IngestReport(
        0, 0, len(kept), 0, 0, n_chunks, embedded, time.perf_counter() - start, gen, False,
        removed=len(papers) - len(kept),
    )  # fmt: skip


def _prune_vectors(settings: Settings) -> None:
    """Drop the stored vectors of generations that are gone (deleted, or left unsealed by a
    crash); a leased generation keeps its folder and so its vectors."""
    load_vector_store(settings.index).prune(settings.index_dir)


def _cached_vectors(
    settings: Settings, embedder: Embedder, chunks: list[Chunk], progress: bool = False
) -> tuple[np.ndarray, int]:
    """Vectors of ``chunks`` from the embedding cache, the model embedding what it lacks
    (committed to the cache as it goes); returns them and how many were embedded."""
    cache = EmbeddingCache(settings.cache_path, embedder.name, embedder.dim)
    try:
        return _embed_missing(chunks, embedder, cache, settings.index.batch_size, progress)
    finally:
        cache.close()


def _waiter(index_dir: Path, log: Callable[[str], None]) -> Callable[[], None]:
    return lambda: log(f"Another ingest is writing {index_dir}; waiting for it to finish...")


def _write_generation(
    settings: Settings,
    papers: list[Paper],
    embedder: Embedder | None,
    progress: bool,
    previous: layout.Generation | None = None,
    previous_papers: Iterable[Paper] = (),
) -> tuple[str, int, int]:
    """Chunk, embed (cache first), write and publish a whole new generation of ``papers``.
    With ``previous`` (the current generation, built with the same settings) the work is in
    proportion to what changed: unchanged papers keep their chunks and vectors, and the vector
    store stores only what it lacks. Returns (generation name, chunks, texts embedded now).
    Called under the ingest lock."""
    index_dir = settings.index_dir
    store = load_vector_store(settings.index)
    embedder = embedder or load_ingest_embedder(settings.index)
    before = _PreviousChunks.of_generation(previous, previous_papers)
    chunks: list[Chunk] = []
    for paper in papers:
        kept = before.of(paper)
        chunks.extend(kept if kept is not None else embedded_chunks(paper, embedder.count_tokens, settings.index))
    fresh = [c for c in chunks if not before.has(c)]
    fresh_vectors, embedded = _cached_vectors(settings, embedder, fresh, progress)
    by_id = dict(zip((c.id for c in fresh), fresh_vectors))

    def vectors_of(rows: Sequence[int]) -> np.ndarray:
        # Kept chunks' vectors come from the previous generation where its store keeps them on
        # disk; from the cache where it does not (a server lacking chunks it once had).
        wanted = [chunks[r] for r in rows]
        others = lambda rest: _cached_vectors(settings, embedder, rest)[0]  # noqa: E731
        return before.vectors_for(wanted, by_id, embedder.dim, others)

    if settings.index.embedder == "onnx":
        exported_onnx(settings.index)  # queries embed with it: export it while torch is loaded

    gen = layout.new_generation(index_dir)
    # The store's writes (a file and its projection, or uploads to a server) run beside the
    # other files of the generation, which is sealed only when all are done.
    with ThreadPoolExecutor(max_workers=1) as pool:
        stored = pool.submit(store.write, gen, chunks, vectors_of)
        write_chunks(gen.path, chunks)
        unchanged = {p.id for p in papers if before.same_text(p)}.__contains__
        LexicalIndex.build(
            [p.id for p in papers],
            lambda i: papers[i].text,
            settings.retrieval.bm25_stemmer,
            previous=LexicalIndex.load(previous.bm25_dir, settings.retrieval.bm25_stemmer) if previous else None,
            unchanged=unchanged,
        ).save(gen.bm25_dir)
        vocabulary_of(
            papers, Vocabulary.load(previous.path) if previous else None, previous_papers, unchanged
        ).save(gen.path)
        gen.write_papers(papers)
        where = stored.result()
    gen.seal(
        {
            "papers": len(papers),
            "chunks": len(chunks),
            "settings": index_fingerprint(settings),
            "embedder": embedder.name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **where,
        }
    )
    layout.publish(index_dir, gen)
    store.prune(index_dir)
    return gen.name, len(chunks), embedded


class _PreviousChunks:
    """The chunks and vectors of the generation an ingest builds on, by paper."""

    def __init__(self, papers: Iterable[Paper], chunks: list[Chunk], vectors: np.ndarray | None) -> None:
        self._papers = {p.id: p for p in papers}
        self._by_paper: dict[str, list[Chunk]] = {}
        for c in chunks:
            self._by_paper.setdefault(c.paper_id, []).append(c)
        self._rows = {c.id: row for row, c in enumerate(chunks)}
        self._texts = {c.id: c.text for c in chunks}
        self._vectors = vectors

    @classmethod
    def of_generation(cls, gen: layout.Generation | None, papers: Iterable[Paper]) -> "_PreviousChunks":
        """``gen``'s chunks (``papers``: its papers, already read by the caller); none without one."""
        if gen is None:
            return cls([], [], None)
        return cls(papers, read_chunks(gen.path), stored_vectors(gen.path))

    def of(self, paper: Paper) -> list[Chunk] | None:
        """The paper's chunks as they were, when its text has not changed."""
        return self._by_paper.get(paper.id, []) if self.same_text(paper) else None

    def same_text(self, paper: Paper) -> bool:
        """Whether the paper was in the previous generation with the same title and abstract."""
        old = self._papers.get(paper.id)
        return old is not None and (old.title, old.abstract) == (paper.title, paper.abstract)

    def has(self, chunk: Chunk) -> bool:
        """Whether this very chunk (id and text) is in the previous generation."""
        return self._texts.get(chunk.id) == chunk.text

    def vectors_for(
        self, chunks: list[Chunk], fresh: dict[str, np.ndarray], dim: int, others: Callable[[list[Chunk]], np.ndarray]
    ) -> np.ndarray:
        """Vectors of ``chunks``: embedded now (``fresh``, by chunk id), kept in the previous
        generation's vectors, or, where it keeps none on disk, from ``others``."""
        out = np.zeros((len(chunks), dim), dtype=np.float32)
        kept, rest = [], []
        for i, c in enumerate(chunks):
            if c.id in fresh:
                out[i] = fresh[c.id]
            elif self._vectors is not None:
                kept.append((i, self._rows[c.id]))
            else:
                rest.append(i)
        if rest:
            out[rest] = others([chunks[i] for i in rest])
        if kept:
            # One gather from the memory-mapped vectors (rows mostly in file order): a row at
            # a time was 1.1 s of a 1% add at 100k papers.
            at, rows = np.asarray(kept, dtype=np.int64).T
            out[at] = self._vectors[rows]
        return out
