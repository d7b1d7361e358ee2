"""Chroma as a server (`PAPERBOT_INDEX__CHROMA_URL`): a real `chroma run` on loopback. The
same top-10 and chunk similarities as the exact store, with no vectors on disk or mapped by a
reader; an ingest uploads only chunks the server lacks, and a reader
of an older generation keeps its own chunks until it lets go; `kill -9` of the server
mid-ingest is a one-line error and a rerun after its restart completes; a server that is
down is a one-line error on `ask`."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from bot.query.query import understand

from bot.retrieval.search import search
from evals.questions import BUNDLED_DEV, load_questions
from index import layout
from index.ingest import ingest
from index.reader import open_index
from index.settings import BUNDLED_CORPUS, Settings
from index.vectors.base import read_chunks
from index.errors import ConfigError
from index.vectors.chroma import PREFIX, ChunkStore, Server, ServerVectors, export_chroma, stored_id
from tests.conftest import fake_process_env

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent / "data"
CHROMA = Path(sys.executable).with_name("chroma")
PAPERBOT = Path(sys.executable).with_name("paperbot")


class ChromaServer:
    def __init__(self, path: Path) -> None:
        self.path = path
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.kill()  # the fixture's teardown never runs when its setup fails
        raise RuntimeError("chroma run did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def collections(self) -> list[str]:
        return sorted(c.name for c in Server(self.url, {}).client().list_collections())

    def ids(self) -> set[str]:
        return set(ChunkStore.remote(Server(self.url, {}), f"{PREFIX}-default").all_ids())


def _stored(settings: Settings) -> set[str]:
    return {stored_id(c) for c in read_chunks(layout.require_generation(settings.index_dir).path)}


@pytest.fixture
def server(tmp_path):
    s = ChromaServer(tmp_path / "chroma-server")
    s.start()
    yield s
    s.kill()


def test_server_mode_ranks_like_the_exact_store(server, real_index, real_index_dir, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    # The embedding cache (the ONNX export is shared): nothing is embedded or exported again.
    shutil.copy(real_index_dir / "embeddings.sqlite", data / "embeddings.sqlite")
    settings = Settings(index={"data_dir": data, "chroma_url": server.url})
    report = ingest(settings)
    assert report.embedded == 0 and report.papers == 398
    assert not list(layout.require_generation(settings.index_dir).path.glob("*.npy"))  # vectors live on the server

    remote = open_index(settings)
    questions = [q.question for q in load_questions(BUNDLED_DEV)][:25]
    for q in questions:
        ours = [h.paper.id for h in search(remote, understand(remote, q, settings.retrieval), settings.retrieval, k=10)]
        embedded = [h.paper.id for h in search(real_index, understand(real_index, q, real_index.settings.retrieval), real_index.settings.retrieval, k=10)]
        assert ours == embedded, q
    with remote.use() as idx, real_index.use() as local:
        assert isinstance(idx.vectors, ServerVectors)
        query = idx.embed_query(questions[0])
        papers = list(local.dense(query, 40))[:8] + ["no-such-paper"]  # learned fusion's per-chunk features
        for theirs, exact in zip(idx.chunk_similarities(query, papers), local.chunk_similarities(query, papers)):
            assert len(theirs) == len(exact) and np.allclose(theirs, exact, atol=1e-6)
    mapped = [line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines() if str(data) in line]
    assert mapped and not [m for m in mapped if m.endswith(".npy") and "/bm25/" not in m]  # BM25's only: no vectors
    assert server.collections() == [f"{PREFIX}-default"]
    assert server.ids() == _stored(settings)


def test_server_ingest_uploads_only_the_difference(server, tmp_path, monkeypatch):
    settings = Settings(index={"data_dir": tmp_path / "data", "embedder": "fake", "chroma_url": server.url})
    ingest(settings, [DATA / "papers.jsonl"])
    first = _stored(settings)
    uploaded: list[str] = []
    add = ChunkStore.add
    monkeypatch.setattr(ChunkStore, "add", lambda self, chunks, vectors, ids=None: (uploaded.extend(ids or []), add(self, chunks, vectors, ids))[1])
    old = open_index(settings)
    with old.use() as pinned:  # a reader in the middle of a question on the first generation
        query = pinned.embed_query("gardeners route tomatoes")
        before = pinned.dense(query, 10)
        corrected = tmp_path / "corrected.jsonl"
        corrected.write_text(json.dumps({"id": "u1", "title": "Sparse Mixture of Gardeners",
                                         "abstract": "Gardeners now route cucumbers, not tomatoes, to experts."}) + "\n")  # fmt: skip
        ingest(settings, [corrected, DATA / "papers.csv"])
        second = _stored(settings)
        assert set(uploaded) == second - first and uploaded  # only new or changed chunks went up
        assert server.ids() == first | second  # the pinned generation's chunks stay
        assert pinned.dense(query, 10) == before  # ... and it sees only its own
    new = open_index(settings)
    with new.use() as current:
        assert "cucumbers" in current.dense(query, 10)["u1"].chunk
    old.close()
    ingest(settings, [DATA / "papers.csv"])  # nothing new: cleans up the released generation
    assert server.ids() == second
    with pytest.raises(ConfigError, match="keeps its vectors on a Chroma server, in the collection paperbot-default"):
        export_chroma(settings, tmp_path / "export")  # the collection is on the server already


KILL_SERVER_MID_INGEST = r"""
import os, signal, sys
import index.vectors.chroma as store
add, pid = store.ChunkStore.add, int(sys.argv[1])
def add_then_kill(self, chunks, vectors, ids=None):
    add(self, chunks[:100], vectors[:100], ids[:100])
    os.kill(pid, signal.SIGKILL)  # the server dies with the ingest half-way through its writes
    add(self, chunks[100:], vectors[100:], ids[100:])
store.ChunkStore.add = add_then_kill
from evals.cli import main
sys.exit(main(["ingest", "--no-progress", sys.argv[2]]))
"""


def test_server_killed_mid_ingest_then_restarted(server, tmp_path):
    data = tmp_path / "data"
    env = {**fake_process_env(data), "PAPERBOT_INDEX__CHROMA_URL": server.url}
    settings = Settings(index={"data_dir": data, "embedder": "fake", "chroma_url": server.url})
    ingest(settings, [DATA / "papers.jsonl"])
    first = layout.require_generation(settings.index_dir).name

    r = subprocess.run([sys.executable, "-c", KILL_SERVER_MID_INGEST, str(server.proc.pid), str(BUNDLED_CORPUS)],
                       env=env, capture_output=True, text=True, timeout=240)  # fmt: skip
    assert r.returncode == 5, r.stderr
    assert r.stderr.startswith("paperbot: error: Chroma server at") and r.stderr.count("\n") == 1, r.stderr
    assert layout.require_generation(settings.index_dir).name == first  # the old generation stays current

    server.start()  # same folder, same port
    r = subprocess.run([str(PAPERBOT), "ingest", "--no-progress", "--json", str(BUNDLED_CORPUS)], env=env,
                       capture_output=True, text=True, timeout=240)  # fmt: skip
    assert r.returncode == 0, r.stderr
    current = json.loads(r.stdout)["generation"]
    assert server.collections() == [f"{PREFIX}-default"]
    assert server.ids() == _stored(settings)  # nothing of the crashed ingest is left over
    ask = subprocess.run([str(PAPERBOT), "ask", "--json", "how do gardeners route tomatoes?"], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ask.returncode == 0 and json.loads(ask.stdout)["generation"] == current, ask.stderr


def test_a_server_that_is_down_is_a_one_line_error_on_ask(server, tmp_path):
    data = tmp_path / "data"
    env = {**fake_process_env(data), "PAPERBOT_INDEX__CHROMA_URL": server.url}
    ingest(Settings(index={"data_dir": data, "embedder": "fake", "chroma_url": server.url}), [DATA / "papers.jsonl"])
    server.kill()
    r = subprocess.run([str(PAPERBOT), "ask", "how do gardeners route tomatoes?"], env=env,
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 5 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("paperbot: error: Chroma server at") and r.stderr.count("\n") == 1


def test_switching_to_a_server_asks_for_an_ingest(tmp_path):
    data = tmp_path / "data"
    ingest(Settings(index={"data_dir": data, "embedder": "fake"}), [DATA / "papers.jsonl"])
    with pytest.raises(ConfigError, match="run `paperbot ingest`.*unset PAPERBOT_INDEX__CHROMA_URL"):
        open_index(Settings(index={"data_dir": data, "embedder": "fake", "chroma_url": "http://127.0.0.1:9"}))
