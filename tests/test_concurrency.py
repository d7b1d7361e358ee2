"""Ingests while other processes answer: four `paperbot` processes (two `search`, two
`ask`, stdin batch mode, recording traces into one SQLite file) query in a loop while two
ingests run. Zero errors, and every answer comes from a complete generation."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from index import layout
from index.settings import BUNDLED_CORPUS, Settings
from tests.conftest import fake_process_env, stop

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent / "data"
PAPERBOT = Path(sys.executable).with_name("paperbot")
QUERIES = ["gardeners route tomatoes", "yeast entangled bread", "tiny violins pitch", "mixture of experts", "diffusion"]


class Client:
    """A `paperbot search|ask --json` process fed one query at a time from a thread."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.command = command
        self.proc = subprocess.Popen([str(PAPERBOT), command, "--json"], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        self.results: list[dict] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        i = 0
        while not self.stop.is_set():
            q = QUERIES[i % len(QUERIES)]
            i += 1
            try:
                self.proc.stdin.write(q + "\n")
                self.proc.stdin.flush()
                line = self.proc.stdout.readline()
            except OSError as e:
                self.errors.append(f"{self.command}: {e}")
                return
            if not line:
                self.errors.append(f"{self.command} exited: {self.proc.stderr.read()[-2000:]}")
                return
            obj = json.loads(line)
            if "error" in obj:
                self.errors.append(obj["error"])
            self.results.append(obj)

    def close(self) -> str:
        self.stop.set()
        self.thread.join(timeout=120)
        return stop(self.proc, 60, terminate=False)[1]  # closes its stdin: it ends (or is killed after 60 s)


def test_ingests_while_four_processes_answer(tmp_path):
    data = tmp_path / "data"
    env = fake_process_env(data)
    settings = Settings(index={"data_dir": data, "embedder": "fake"})
    first = subprocess.run([str(PAPERBOT), "ingest", str(DATA / "papers.jsonl")], env=env,
                           capture_output=True, text=True, timeout=240)  # fmt: skip
    assert first.returncode == 0, first.stderr
    papers_of = {}  # every generation published: its paper ids

    def record_current() -> None:
        gen = layout.require_generation(settings.index_dir)
        papers_of[gen.name] = {p.id for p in gen.papers()}

    record_current()
    clients = [Client(c, env) for c in ("search", "search", "ask", "ask")]
    try:
        time.sleep(3)
        for paths in ([DATA / "papers.csv"], [BUNDLED_CORPUS]):
            r = subprocess.run([str(PAPERBOT), "ingest", "--no-progress", *map(str, paths)], env=env,
                               capture_output=True, text=True, timeout=240)  # fmt: skip
            assert r.returncode == 0, r.stderr
            record_current()
            time.sleep(3)  # every client answers from the newest generation meanwhile
    finally:
        stderr = [c.close() for c in clients]

    results = [r for c in clients for r in c.results]
    errors = [e for c in clients for e in c.errors]
    assert errors == [], (errors, stderr)
    assert len(results) >= 40
    newest = max(papers_of)
    for c in clients:  # each process moved to the newest generation without a restart
        assert c.results[-1]["generation"] == newest
    for r in results:
        assert r["generation"] in papers_of  # a published (complete) generation
        assert {h["paper_id"] for h in r["hits"]} <= papers_of[r["generation"]]
    print(f"\n4 processes, {len(results)} answers during 2 ingests, {len(errors)} errors, "
          f"generations seen: {sorted({r['generation'] for r in results})}")


def test_two_ingests_at_once_both_land_with_wait(tmp_path):
    data = tmp_path / "data"
    env = fake_process_env(data)
    procs = [
        subprocess.Popen([str(PAPERBOT), "ingest", "--wait", "--no-progress", str(path)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        for path in (DATA / "papers.jsonl", BUNDLED_CORPUS)
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    gen = layout.require_generation(Settings(index={"data_dir": data}).index_dir)
    titles = {p.title for p in gen.papers()}
    assert "Sparse Mixture of Gardeners" in titles and len(titles) > 300
