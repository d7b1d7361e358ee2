"""The index under running processes: leases, the switch to new generations, readers that
never write, the recorded build settings, corrections and removals."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evals.cli import main
from index import layout
from index.ingest import ingest, remove
from index.errors import BadInput, ConfigError
from index.reader import open_index
from index.vectors.base import CHUNKS
from index.settings import Settings
from tests.conftest import fake_process_env, stop

DATA = Path(__file__).parent / "data"
PAPERBOT = Path(sys.executable).with_name("paperbot")


def paper_file(folder: Path, name: str, papers: list[dict]) -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(p) + "\n" for p in papers))
    return path


def tree_state(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``root``: size, mtime and content hash."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            p = Path(folder) / name
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def test_a_live_index_moves_to_new_generations_and_lets_old_ones_go(fake_settings, tmp_path):
    ingest(fake_settings, [DATA / "papers.jsonl"])
    live = open_index(fake_settings)
    first = live.generation.name
    assert len(live.papers) == 2

    with live.use() as pinned:  # a question in flight on the first generation
        ingest(fake_settings, [DATA / "papers.csv"])
        ingest(fake_settings, [paper_file(tmp_path, "more.jsonl", [{"title": "Owls", "abstract": "Owls sort mail."}])])
        assert len(live.papers) == 4  # the next question sees the newest
        assert (fake_settings.index_dir / first).is_dir()  # still leased by the pinned question
        assert len(pinned.papers) == 2 and pinned.bm25("tomatoes", 5)  # and still answers

    assert (fake_settings.index_dir / first).is_dir()  # released now, deleted by the next ingest
    ingest(fake_settings, [paper_file(tmp_path, "owls2.jsonl", [{"title": "Bats", "abstract": "Bats sort mail too."}])])
    gens = sorted(p.name for p in fake_settings.index_dir.glob("gen-*"))
    # Gone; the live index still holds the generation it last used, until it moves on.
    assert first not in gens and len(gens) == 2 and live.generation.name == gens[-1]


READER = """
import sys
from index.reader import open_index
from index.settings import Settings
from bot.query.query import understand
from bot.retrieval.search import search
s = Settings()
live = open_index(s)
with live.use() as idx:
    print(idx.generation.name, flush=True)
    sys.stdin.readline()  # the test runs ingests meanwhile
    hits = search(idx, understand(idx, "gardeners route tomatoes", s.retrieval), s.retrieval, k=3)
    print(len(idx.papers), hits[0].paper.title, flush=True)
"""


def test_a_generation_leased_by_another_process_is_not_deleted(tmp_path):
    data = tmp_path / "data"
    env = fake_process_env(data)
    settings = Settings(index={"data_dir": data, "embedder": "fake"})
    ingest(settings, [DATA / "papers.jsonl"])
    reader = subprocess.Popen([sys.executable, "-c", READER], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        leased = reader.stdout.readline().strip()
        assert leased.startswith("gen-"), reader.stderr.read()
        ingest(settings, [DATA / "papers.csv"])
        ingest(settings, [paper_file(tmp_path, "o.jsonl", [{"title": "Owls", "abstract": "Owls sort mail."}])])
        assert (settings.index_dir / leased / layout.MANIFEST).is_file()
        reader.stdin.write("go\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "2 Sparse Mixture of Gardeners"
        assert reader.wait(timeout=30) == 0
    finally:
        reader.kill()
    # The reader is gone: the next ingest deletes what it held.
    ingest(settings, [paper_file(tmp_path, "b.jsonl", [{"title": "Bats", "abstract": "Bats sort mail too."}])])
    assert not (settings.index_dir / leased).exists()


def test_opening_with_other_build_settings_is_a_one_line_error(fake_settings):
    ingest(fake_settings, [DATA / "papers.jsonl"])
    other = fake_settings.model_copy(deep=True)
    built = fake_settings.index.chunk_tokens
    other.index.chunk_tokens = built // 2
    with pytest.raises(ConfigError) as e:
        open_index(other)
    msg = str(e.value)
    assert "\n" not in msg and f"chunk_tokens={built}" in msg and f"PAPERBOT_INDEX__CHUNK_TOKENS={built}" in msg
    other.retrieval.bm25_stemmer = ""
    other.index.chunk_tokens = built
    with pytest.raises(ConfigError, match="PAPERBOT_RETRIEVAL__BM25_STEMMER"):
        open_index(other)


def test_a_corrected_abstract_replaces_the_paper_and_its_chunks(fake_settings, tmp_path):
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    fixed = paper_file(tmp_path, "fix.jsonl", [{"id": "u1", "title": "Sparse Mixture of Gardeners",
                       "abstract": "We study how gardeners route cucumbers to experts with a dense router."}])  # fmt: skip
    report = ingest(fake_settings, [fixed])
    assert (report.papers, report.new_papers, report.changed_papers) == (3, 0, 1)
    live = open_index(fake_settings)
    assert "cucumbers" in live.papers["u1"].abstract
    chunks = (live.generation.path / CHUNKS).read_text()
    assert "cucumbers" in chunks and "tomatoes" not in chunks
    assert live.current().bm25("tomatoes", 5) == {}


def test_remove_papers_by_id(fake_env, capsys):
    assert main(["ingest", str(DATA / "papers.jsonl"), str(DATA / "papers.csv")]) == 0
    assert main(["remove", "u1", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nope" in err and "nothing was removed" in err
    assert main(["remove", "u1"]) == 0
    assert "Removed 1 paper(s); 2 left" in capsys.readouterr().out
    assert main(["search", "--json", "gardeners tomatoes"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert "u1" not in {h["paper_id"] for h in hits}


def test_removing_every_paper_is_refused(fake_settings):
    ingest(fake_settings, [DATA / "papers.jsonl"])
    ids = list(open_index(fake_settings).papers)
    with pytest.raises(BadInput, match="empty"):
        remove(fake_settings, ids)


def test_a_second_ingest_stops_or_waits_with_a_message(tmp_path):
    data = tmp_path / "data"
    env = fake_process_env(data)
    settings = Settings(index={"data_dir": data, "embedder": "fake"})
    ingest(settings, [DATA / "papers.jsonl"])
    with layout.ingest_lock(settings.index_dir):  # an ingest in progress
        r = subprocess.run([str(PAPERBOT), "ingest", str(DATA / "papers.csv")], env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
        assert r.returncode == 1 and "Another `paperbot ingest`" in r.stderr and "--wait" in r.stderr
        assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
        waiting = subprocess.Popen([str(PAPERBOT), "ingest", "--wait", str(DATA / "papers.csv")], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        time.sleep(5)
        assert waiting.poll() is None  # still waiting for the lock
    out, err = stop(waiting, 120, terminate=False)  # killed if not done in 120 s
    assert waiting.returncode == 0 and "waiting" in err and "Indexed 3 papers" in out


def _strip_volatile(obj: dict) -> dict:
    obj = dict(obj)
    obj.pop("run_id", None)
    obj.pop("timings_ms", None)
    return obj


@pytest.mark.integration
def test_readers_never_write_and_every_process_answers_alike(real_index_dir):
    """search/ask --json in separate processes: byte-identical output (less run id and
    timings), and not one byte of the index changed."""
    index_dir = real_index_dir / "indexes" / "default"
    before = tree_state(index_dir)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PAPERBOT_INDEX__DATA_DIR": str(real_index_dir)}
    runs = []
    for _ in range(2):
        search = subprocess.run([str(PAPERBOT), "search", "--json", "-k", "5", "parameter-efficient fine-tuning"],
                                env=env, capture_output=True, text=True, timeout=180)  # fmt: skip
        ask = subprocess.run([str(PAPERBOT), "ask", "--json", "Which papers make LLMs multiplication-free?"],
                             env=env, capture_output=True, text=True, timeout=180)  # fmt: skip
        assert search.returncode == 0 and ask.returncode == 0, search.stderr + ask.stderr
        runs.append((search.stdout, json.dumps(_strip_volatile(json.loads(ask.stdout)), sort_keys=True)))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1] == runs[1][1]
    assert tree_state(index_dir) == before


NEW_PAPERS = [
    ({"id": "origami", "title": "Lattice Origami Networks for Fast Protein Folding",
      "abstract": "We introduce Lattice Origami Networks, which fold protein chains along paper-like creases "
                  "on a lattice. On a small folding benchmark they predict structures 40 times faster than "
                  "earlier lattice models at equal accuracy."},
     "Which paper folds protein chains along origami creases on a lattice?"),
    ({"id": "whales", "title": "Whale Song Transformers",
      "abstract": "We train a transformer on 10,000 hours of humpback whale song and show that it predicts the "
                  "next song unit with 71% accuracy. The model discovers phrases shared across whale populations."},
     "Is there a transformer trained on humpback whale song?"),
]  # fmt: skip


@pytest.mark.integration
def test_a_running_slack_bot_answers_from_each_new_generation(tmp_path):
    """`paperbot slack --http` keeps running while two ingests add papers: each new paper is
    cited on the next question, no reply is the apology, and the first generation is
    deleted once the bot has moved on."""
    import socket

    from evals.bench.slack_load import SECRET, WebAPIStandIn, mention_body, send_signed, serving, wait_for

    data = tmp_path / "data"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PAPERBOT_INDEX__DATA_DIR": str(data)}
    settings = Settings(index={"data_dir": data})
    ingest(settings, [DATA / "papers.jsonl"])
    first = layout.require_generation(settings.index_dir).name
    api = WebAPIStandIn()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / ".env").write_text(f"SLACK_BOT_TOKEN=xoxb-live\nSLACK_SIGNING_SECRET={SECRET}\n")
    bot = subprocess.Popen([str(PAPERBOT), "slack", "--http", "--host", "127.0.0.1", "--port", str(port)],
                           cwd=tmp_path, env={**env, "PAPERBOT_SLACK__API_URL": api.url},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/slack/events"
    delays = []
    try:
        assert wait_for(lambda: serving(url), timeout=120), "paperbot slack did not start"
        for n, (paper, question) in enumerate(NEW_PAPERS, start=1):
            r = subprocess.run([str(PAPERBOT), "ingest", "--no-progress", str(paper_file(tmp_path, f"new{n}.jsonl", [paper]))],
                               env=env, capture_output=True, text=True, timeout=240)  # fmt: skip
            assert r.returncode == 0, r.stderr
            done = time.monotonic()
            before = len(api.posts())
            assert send_signed(url, mention_body(f"Ev{n}", f"<@UBOT> {question}", f"{n}.1"), secret=SECRET)[0] == 200
            assert wait_for(lambda: len(api.posts()) > before, timeout=120)
            delays.append(time.monotonic() - done)
            reply = json.dumps(api.posts()[-1])
            assert paper["title"] in reply, reply[:2000]
        assert not any("Sorry, something went wrong" in json.dumps(p) for p in api.posts())
        assert not (settings.index_dir / first).exists()  # the bot let it go; the 2nd ingest deleted it
    finally:
        out = stop(bot, 30)[0]
        api.shutdown()
    assert "Traceback" not in out, out[-3000:]
    print(f"\nseconds from the end of an ingest to the bot's reply citing the new paper: "
          f"{', '.join(f'{d:.2f}' for d in delays)}")



def test_an_index_from_an_older_paperbot_asks_for_one_ingest(fake_settings, counting_embedder):
    ingest(fake_settings, [DATA / "papers.jsonl"], embedder=counting_embedder)
    gen = layout.require_generation(fake_settings.index_dir)
    manifest = gen.manifest()
    del manifest["settings"]["format"]  # as written before the format was recorded
    (gen.path / layout.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match="older paperbot; run `paperbot ingest` once"):
        open_index(fake_settings)
    n = len(counting_embedder.embedded)
    report = ingest(fake_settings, [DATA / "papers.jsonl"], embedder=counting_embedder)
    assert not report.unchanged and len(counting_embedder.embedded) == n  # rebuilt from the cache
    assert len(open_index(fake_settings).papers) == 2
