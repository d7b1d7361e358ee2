"""`kill -9` during ingest, at every stage: a real `paperbot ingest` process is killed with
SIGKILL (by itself at an exact point, or from outside at random moments). Each time the
previous generation keeps answering, and the rerun ends in an index identical to a clean
build that embedded only what the killed run had not cached yet."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.query.query import understand

from bot.retrieval.search import search
from index import layout
from index.ingest import ingest
from index.embedding.cache import EmbeddingCache
from index.embedding.embedders import FakeEmbedder
from index.reader import open_index
from index.vectors.base import CHUNKS
from index.settings import BUNDLED_CORPUS, Settings
from index.vocabulary import Vocabulary
from tests.conftest import fake_process_env

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent / "data"
QUERIES = ["mixture of experts routing", "diffusion models sampling speed", "LLM quantization", "gardeners"]

# Runs `paperbot ingest ARGS` in this process after arranging a SIGKILL at POINT.
KILLER = r"""
import os, signal, sys
point, args = sys.argv[1], sys.argv[2:]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

import index.ingest as build, index.layout as layout, index.lexical as lexical, index.vectors.exact as exact
from index.embedding.embedders import FakeEmbedder

if point == "parsing":  # after the first file is parsed
    read, seen = build.read_papers, []
    def read_papers(f):
        if seen: die()
        seen.append(f)
        return read(f)
    build.read_papers = read_papers
elif point == "embedding":  # after one batch reached the embedding cache
    embed, calls = FakeEmbedder.embed, []
    def embed_once(self, texts, batch_size=32):
        if len(calls) == 1: die()
        calls.append(len(texts))
        return embed(self, texts, batch_size)
    FakeEmbedder.embed = embed_once
elif point == "vectors":  # a third of the chunk vectors written to the new generation
    def save_some(folder, vectors):
        exact.np.save(folder / exact.VECTORS, vectors[: len(vectors) // 3]); die()
    exact.save_vectors = save_some
elif point == "bm25":  # BM25 arrays written, its term list and paper ids not yet
    save = lexical.LexicalIndex.save
    def save_arrays(self, path):
        lexical.Path.write_text = lambda *a, **k: die()
        save(self, path)
    lexical.LexicalIndex.save = save_arrays
elif point == "vocabulary":  # the vocabulary file half-written
    import index.vocabulary as vocabulary
    def save_half(self, folder):
        (folder / vocabulary.FILE).write_text('{"version": 1, "pap'); die()
    vocabulary.Vocabulary.save = save_half
elif point == "manifest":  # everything written and fsynced, the manifest half-written
    write = layout.atomic_write
    def atomic_write(path, text):
        if path.name == layout.MANIFEST:
            path.with_name(f"{path.name}.{os.getpid()}.tmp").write_text(text[: len(text) // 2]); die()
        write(path, text)
    layout.atomic_write = atomic_write
elif point == "pointer":  # the new CURRENT written to its temporary file, not renamed yet
    write = layout.atomic_write
    def atomic_write(path, text):
        if path.name == layout.POINTER:
            path.with_name(f"{path.name}.{os.getpid()}.tmp").write_text(text); die()
        write(path, text)
    layout.atomic_write = atomic_write
elif point == "cleanup":  # CURRENT switched, old generations not yet deleted
    layout.collect_garbage = lambda index_dir: die()
elif point != "none":
    raise SystemExit(f"unknown point {point}")

from evals.cli import main
sys.exit(main(["ingest", "--no-progress", *args]))
"""


def settings_for(data: Path) -> Settings:
    return Settings(index={"data_dir": data, "embedder": "fake"})


def snapshot(settings: Settings) -> dict:
    """What an index answers: paper ids, chunk ids, the rankings of a few queries, the saved vocabulary."""
    live = open_index(settings)
    try:
        with live.use() as idx:
            chunks = [json.loads(line)["id"] for line in (idx.generation.path / CHUNKS).open()]
            rankings = {
                q: [(h.paper.id, round(h.score, 6)) for h in search(idx, understand(idx, q, settings.retrieval), settings.retrieval, k=10)]
                for q in QUERIES
            }
            return {"generation": idx.generation.name, "papers": sorted(idx.papers), "chunks": chunks,
                    "rankings": rankings, "vocabulary": Vocabulary.load(idx.generation.path)}  # fmt: skip
    finally:
        live.close()


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict:
    data = tmp_path_factory.mktemp("clean")
    s = settings_for(data)
    ingest(s, [DATA / "papers.jsonl"])
    ingest(s, [BUNDLED_CORPUS])
    gen = layout.require_generation(s.index_dir)
    texts = [json.loads(line)["text"] for line in (gen.path / CHUNKS).open()]
    return {**snapshot(s), "texts": texts}


def cached_count(data: Path, texts: list[str]) -> int:
    emb = FakeEmbedder()
    cache = EmbeddingCache(settings_for(data).cache_path, emb.name, emb.dim)
    try:
        return len(cache.get_many(texts))
    finally:
        cache.close()


@pytest.mark.parametrize(
    "point", ["parsing", "embedding", "vectors", "bm25", "vocabulary", "manifest", "pointer", "cleanup"]
)
def test_sigkill_at_each_stage(point, tmp_path, clean):
    data = tmp_path / "data"
    s = settings_for(data)
    ingest(s, [DATA / "papers.jsonl"])
    before = snapshot(s)

    killed = subprocess.run([sys.executable, "-c", KILLER, point, str(BUNDLED_CORPUS)], env=fake_process_env(data),
                            capture_output=True, text=True, timeout=240)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    after_kill = snapshot(s)  # the index still answers
    if point == "cleanup":  # killed after the switch: the new generation is complete
        assert after_kill["papers"] == clean["papers"]
    else:
        assert after_kill == before

    texts = clean["texts"]
    already = cached_count(data, texts)

    rerun = subprocess.run([sys.executable, "-c", KILLER, "none", "--json", str(BUNDLED_CORPUS)],
                           env=fake_process_env(data), capture_output=True, text=True, timeout=240)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    if point != "cleanup":
        assert report["embedded"] == len(set(texts)) - already  # only what was not cached yet
    if point == "embedding":
        assert 0 < already < len(set(texts))

    final = snapshot(s)
    assert {k: v for k, v in final.items() if k != "generation"} == {
        k: v for k, v in clean.items() if k not in ("generation", "texts")
    }
    leftovers = sorted(p.name for p in s.index_dir.iterdir() if p.name not in (".lock", layout.POINTER))
    assert leftovers == [final["generation"]]  # half-written generations and temp files are gone


def test_sigkill_from_outside_at_random_moments(tmp_path, clean):
    """No hooks: SIGKILL from another process after a random delay, six times over."""
    rng = random.Random(9)
    # How long a whole ingest process takes on this machine: kills land inside it.
    t = time.monotonic()
    subprocess.run([sys.executable, "-c", KILLER, "none", str(BUNDLED_CORPUS)], env=fake_process_env(tmp_path / "timing"),
                   check=True, capture_output=True, timeout=240)  # fmt: skip
    duration = time.monotonic() - t
    data = tmp_path / "data"
    s = settings_for(data)
    ingest(s, [DATA / "papers.jsonl"])
    before = snapshot(s)
    outcomes = []
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", KILLER, "none", str(BUNDLED_CORPUS)], env=fake_process_env(data),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(rng.uniform(0.1, 0.9) * duration)
        proc.send_signal(signal.SIGKILL)
        outcomes.append(proc.wait(timeout=60))
        now = snapshot(s)
        assert now == before or now["papers"] == clean["papers"]  # old or new, never half
        if now != before:
            break  # the ingest finished before the kill: nothing left to interrupt
    rerun = subprocess.run([sys.executable, "-c", KILLER, "none", str(BUNDLED_CORPUS)], env=fake_process_env(data),
                           capture_output=True, text=True, timeout=240)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    final = snapshot(s)
    assert {k: v for k, v in final.items() if k != "generation"} == {
        k: v for k, v in clean.items() if k not in ("generation", "texts")
    }
    assert -signal.SIGKILL in outcomes
