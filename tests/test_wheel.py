"""`pip install .` for real: the wheel built from this checkout, installed non-editable into a
fresh venv, runs every front end from a working directory that is not the repository, reading
its prompts, question sets, configurations and corpus as package data and writing only under
that working directory.

Isolation from the dev venv's editable install: the fresh venv gets the dev venv's
site-packages as a plain path line in a .pth file, so the heavy dependencies (torch, Chroma,
the model package) resolve without a 2 GB reinstall. Python appends such a path to sys.path
after the fresh venv's own site-packages and does not run the .pth files inside it, so
setuptools' editable finder (``__editable__.paperbot-*.pth``, which maps bot/index/evals/prompts
to this checkout) is never installed. `test_the_wheel_is_what_runs` checks exactly that.
The wheel is built from a copy of the sources: an in-tree build would leave build/ in the
checkout, and setuptools reuses a stale build/lib (files since deleted would ship)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from evals.bench.slack_load import SECRET, WebAPIStandIn, mention_body, send_signed, serving, wait_for
from tests.conftest import stop

# Minutes by design: the first test to use `ingested` pays for a real-model ingest in its setup
# (131 s, then 13 s for the test, on 2 busy cores), and each step here may take up to its own
# 240-300 s timeout (`_run`, `paperbot`) before it fails: more room than the default per-test limit.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[1]
QUESTION = "Which papers make LLMs multiplication-free?"
# Not sources: what a checkout accumulates (venvs, caches, build output, indexes, reports).
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".paperbot", "reports", "tests"
)


@dataclass(frozen=True)
class Installed:
    venv: Path
    site: Path  # the fresh venv's site-packages, where the wheel went
    work: Path  # the working directory every command runs in (not the repository)

    def files(self) -> set[str]:
        """Everything in the fresh venv but byte-code caches: must not change when paperbot runs."""
        return {str(p.relative_to(self.venv)) for p in self.venv.rglob("*") if "__pycache__" not in p.parts}


def _env(**extra: str) -> dict[str, str]:
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("PAPERBOT_", "SLACK_"))}
    return env | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONNOUSERSITE": "1"} | extra


def _run(cmd: list[str | Path], cwd: Path, timeout: float = 240, **env: str) -> str:
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p.stdout


def _can_build_offline() -> bool:
    """Whether this venv's setuptools can build the wheel itself (no isolated build env to fetch):
    setuptools >= 68 as pyproject.toml asks, with bdist_wheel (built in from 70.1, else `wheel`)."""
    try:
        have = tuple(int(x) for x in re.findall(r"\d+", version("setuptools"))[:2])
    except PackageNotFoundError:
        return False
    try:
        version("wheel")
        wheel = True
    except PackageNotFoundError:
        wheel = False
    return have >= (70, 1) or (have >= (68, 0) and wheel)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    shutil.copytree(REPO, root / "src", ignore=NOT_SOURCES)
    # Without build isolation when this venv can build: nothing to download.
    isolation = ["--no-build-isolation"] if _can_build_offline() else []
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation, "-w", root / "dist", root / "src"], root)
    (wheel,) = (root / "dist").glob("paperbot-*.whl")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], root)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel], root)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root).strip())
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))  # this venv's, in order
    (site / "zz_paperbot_test_dependencies.pth").write_text("".join(f"{d}\n" for d in deps))
    work = root / "work"
    work.mkdir()
    return Installed(venv, site, work)


def paperbot(inst: Installed, *args: str, timeout: float = 240, **env: str) -> str:
    """Run the installed console script in the working directory; it must not write into the venv."""
    before = inst.files()
    out = _run([inst.venv / "bin" / "paperbot", *args], inst.work, timeout, **env)
    assert inst.files() == before, f"`paperbot {' '.join(args)}` wrote into the venv: {inst.files() ^ before}"
    return out


@pytest.fixture(scope="module")
def ingested(installed: Installed) -> Installed:
    """The bundled corpus (package data) ingested with the real model into work/.paperbot."""
    report = json.loads(paperbot(installed, "ingest", "--json", "--no-progress", timeout=300))
    assert report["papers"] == 398 and report["new_papers"] == 398
    assert (installed.work / ".paperbot" / "indexes" / "default").is_dir()
    return installed


PROBE = """
import json, sys, importlib.metadata as md
import bot, evals, index, prompts
print(json.dumps({
    "modules": [m.__file__ for m in (bot, evals, index, prompts)],
    "finders": [repr(f) for f in sys.meta_path],
    "dist": str(md.distribution("paperbot").locate_file("")),
}))
"""


def test_the_wheel_is_what_runs(installed: Installed):
    probe = json.loads(_run([installed.venv / "bin" / "python", "-c", PROBE], installed.work))
    for module in probe["modules"]:
        assert Path(module).resolve().is_relative_to(installed.site.resolve()), f"{module} is not from the wheel"
    assert not any("Editable" in f for f in probe["finders"]), probe["finders"]
    assert Path(probe["dist"]).resolve() == installed.site.resolve()  # its metadata, not the editable one
    shipped = ["prompts/answer.txt", "evals/floors.toml", "evals/configs/example.toml", "evals/configs/example.yaml",
               "evals/questions/bundled_test.jsonl", "evals/questions/bundled_dev.jsonl",
               "evals/questions/test_papers.jsonl",  # the test set is asked over them too
               "evals/questions/dev_arxiv.jsonl", "evals/questions/dev_arxiv_papers.jsonl",
               "evals/questions/dev_arxiv2.jsonl", "evals/questions/dev_arxiv2_papers.jsonl",
               "evals/questions/dev_arxiv3.jsonl", "evals/questions/dev_arxiv3_papers.jsonl",
               "evals/questions/dev_arxiv4.jsonl", "evals/questions/dev_arxiv4_papers.jsonl",
               "evals/questions/dev_arxiv5.jsonl", "evals/questions/dev_arxiv5_papers.jsonl",
               "evals/questions/dev_arxiv6.jsonl", "evals/questions/dev_arxiv6_papers.jsonl",
               "bot/fitted/refusal.json", "bot/fitted/fusion.json", "bot/query/glossary.tsv",
               *(f"index/corpus/{p.name}" for p in (REPO / "index" / "corpus").glob("*.txt"))]  # fmt: skip
    assert [f for f in shipped if not (installed.site / f).is_file()] == []
    assert "ask" in paperbot(installed, "--help")
    assert "--http" in paperbot(installed, "slack", "--help")


def test_ingest_ask_search_from_any_directory(ingested: Installed):
    answer = json.loads(paperbot(ingested, "ask", "--json", QUESTION))  # loads and checks the shipped prompt
    assert not answer["refused"]
    numbers = {c["n"] for c in answer["citations"]}
    assert any("ShiftAddLLM" in c["title"] for c in answer["citations"])
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])} <= numbers
    hits = json.loads(paperbot(ingested, "search", "--json", "-k", "3", "multiplication-free LLMs"))["hits"]
    assert len(hits) == 3 and "ShiftAddLLM" in hits[0]["title"]


def test_eval_run_reports_under_the_working_directory(ingested: Installed):
    config = ingested.site / "evals" / "configs" / "example.yaml"  # shipped configurations load
    out = paperbot(ingested, "eval", "run", "--limit", "3", "--json", "--config", str(config), "--only", "top8")
    report = Path(json.loads(out)["report"])
    assert report.parent.parent == ingested.work / "evals" / "reports" and report.is_file()
    payload = json.loads((report.parent / "report.json").read_text())
    assert payload["commit"] == "unknown" and payload["version"] == "0.1.0"  # no checkout to ask git
    assert {c["name"] for c in payload["datasets"][0]["configs"]} == {"bm25", "dense", "hybrid", "top8"}


def test_slack_http_answers_a_mention(ingested: Installed):
    api = WebAPIStandIn()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = _env(SLACK_BOT_TOKEN="xoxb-wheel", SLACK_SIGNING_SECRET=SECRET, PAPERBOT_SLACK__API_URL=api.url)
    cmd = [str(ingested.venv / "bin" / "paperbot"), "slack", "--http", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ingested.work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/slack/events"

    def up() -> bool:
        return serving(url) or proc.poll() is not None  # stop waiting if it died

    try:
        assert wait_for(up, timeout=120) and proc.poll() is None, "paperbot slack did not start"
        assert send_signed(url, mention_body("EvWheel", f"<@UBOT> {QUESTION}", "1000.0001"))[0] == 200
        assert wait_for(lambda: len(api.posts()) == 1, timeout=60)
        assert "ShiftAddLLM" in json.dumps(api.posts()[0]["blocks"])
    finally:
        out = stop(proc, 30)[0]
        api.shutdown()
        print(out[-3000:])  # shown when the test fails
    assert "xoxb-wheel" not in out, out[-2000:]
