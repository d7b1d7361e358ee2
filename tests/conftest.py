"""Fixtures: fast settings with the fake embedder, and (for integration tests) one real
index of the bundled corpus shared by the whole session."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from index.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _no_paperbot_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the developer's PAPERBOT_* variables or .env."""
    for key in list(os.environ):
        if key.startswith("PAPERBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


# The fake embedder's bag-of-words cosines run lower than MiniLM's: thresholds to match.
FAKE_THRESHOLDS = {"retrieval": {"min_similarity": 0.1}, "answer": {"cite_min_similarity": 0.1}}


def make_settings(data_dir: Path, embedder: str = "fake", **sections: dict) -> Settings:
    s = Settings(index={"data_dir": data_dir, "embedder": embedder}, **FAKE_THRESHOLDS)
    for name, values in sections.items():
        setattr(s, name, getattr(s, name).model_copy(update=values))
    return s


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def counting_embedder():
    """The fake embedder, recording every text it embeds (to check what is embedded again)."""
    from index.embedding.embedders import FakeEmbedder

    class CountingEmbedder(FakeEmbedder):
        def __init__(self) -> None:
            self.embedded: list[str] = []

        def embed(self, texts, batch_size=32):
            self.embedded.extend(texts)
            return super().embed(texts, batch_size)

    return CountingEmbedder()


@pytest.fixture
def fake_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Environment for driving the CLI in-process with the fake embedder."""
    data = tmp_path / "data"
    monkeypatch.setenv("PAPERBOT_INDEX__DATA_DIR", str(data))
    monkeypatch.setenv("PAPERBOT_INDEX__EMBEDDER", "fake")
    for section, values in FAKE_THRESHOLDS.items():
        for key, value in values.items():
            monkeypatch.setenv(f"PAPERBOT_{section.upper()}__{key.upper()}", str(value))
    return data


def fake_process_env(data: Path) -> dict[str, str]:
    """Environment for a paperbot subprocess with the fake embedder on ``data``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PAPERBOT_INDEX__DATA_DIR": str(data),
           "PAPERBOT_INDEX__EMBEDDER": "fake"}  # fmt: skip
    for section, values in FAKE_THRESHOLDS.items():
        for key, value in values.items():
            env[f"PAPERBOT_{section.upper()}__{key.upper()}"] = str(value)
    return env


def stop(proc: subprocess.Popen, timeout: float = 30, *, terminate: bool = True) -> tuple:
    """End a process a test started and return its ``communicate()`` output: SIGTERM first
    (or, with ``terminate=False``, just close its stdin and wait for it to finish), SIGKILL
    if it has not exited within ``timeout`` s. Call it from a ``finally`` or a fixture's
    teardown so that a failing test leaves no server running."""
    if terminate and proc.poll() is None:
        proc.terminate()
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate(timeout=timeout)


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus ingested once with the real model (the default, exact vector store)."""
    from index.ingest import ingest

    data = tmp_path_factory.mktemp("real")
    ingest(Settings(index={"data_dir": data}))
    return data


@pytest.fixture(scope="session")
def real_index(real_index_dir: Path):
    from index.reader import open_index

    return open_index(Settings(index={"data_dir": real_index_dir}))


@pytest.fixture
def api():
    """The loopback Slack Web API stand-in (evals/bench/slack_standin.py)."""
    from evals.bench.slack_standin import WebAPIStandIn

    with WebAPIStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def make_bot(fake_settings, api):
    """Start a bot (the real Bolt app, HTTP mode on loopback) with SlackSettings overrides;
    all share one data dir. Returns (events URL, answerer, app)."""
    from bot.answer.answerer import Answerer
    from bot.slack.app import create_app
    from bot.traces import TraceStore
    from evals.bench.slack_load import SECRET, serve_in_thread
    from index.ingest import ingest
    from index.reader import open_index

    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    servers = []

    def start(**slack):
        s = fake_settings.model_copy(deep=True)
        s.slack = type(s.slack).model_validate(
            {"bot_token": "xoxb-test", "signing_secret": SECRET, "api_url": api.url, **slack}
        )
        answerer = Answerer(s, open_index(s), traces=TraceStore(s.traces_path))
        app = create_app(s, answerer)
        url, server = serve_in_thread(app)
        servers.append(server)
        return url, answerer, app

    yield start
    for server in servers:
        server.shutdown()
