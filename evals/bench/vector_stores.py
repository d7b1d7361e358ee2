"""What keeping the chunk vectors costs on the bundled corpus, by vector store: the default
exact store (``vectors.npy`` in each generation), the same plus a Chroma copy kept in step with
``paperbot export chroma DIR``, and (``--server``) a Chroma server.

    python -m evals.bench.vector_stores [--repeat 3] [--server] [--json]

Every step is a ``paperbot`` process, as a user runs it (start-up and imports included), on an
embedding cache filled beforehand by one untimed ingest, so what is timed is the store's work and
not the model's. ``ingest_s``: the whole corpus into an empty index; ``add10_s``: 10 papers
added to an index of the other 388 (for the Chroma copy, the export after each ingest). Sizes:
the generation folder, and the Chroma folder (the copy, or the server's). Medians of
``--repeat`` runs."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.papers import merge_papers
from index.settings import BUNDLED_CORPUS
from index.sources.registry import expand_paths, read_papers

PAPERBOT = Path(sys.executable).with_name("paperbot")
CHROMA = Path(sys.executable).with_name("chroma")
ADDED = 10


def _mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _run(args: list[str], data: Path, **env: str) -> float:
    """Seconds a ``paperbot`` command takes on the data folder ``data``."""
    t = time.perf_counter()
    subprocess.run([str(PAPERBOT), *args], check=True, capture_output=True, timeout=600,
                   env={**os.environ, "PAPERBOT_INDEX__DATA_DIR": str(data), **env})  # fmt: skip
    return time.perf_counter() - t


def _generation(data: Path) -> Path:
    index = data / "indexes" / "default"
    return index / (index / "CURRENT").read_text().strip()


@contextmanager
def _chroma_server(path: Path) -> Iterator[str]:
    """A ``chroma run`` on loopback, storing in ``path``; yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_once(root: Path, cache: Path, base: Path, more: Path, server: bool) -> dict[str, dict[str, float]]:
    """One run of every measurement, in data folders under ``root``."""

    def fresh(name: str) -> Path:
        data = root / name
        data.mkdir()
        shutil.copy(cache, data / "embeddings.sqlite")
        return data

    full, grown = fresh("full"), fresh("grown")
    ingest_s = _run(["ingest", "--no-progress"], full)
    export_s = _run(["export", "chroma", str(root / "copy-full")], full)
    _run(["ingest", "--no-progress", str(base)], grown)
    _run(["export", "chroma", str(root / "copy-grown")], grown)
    add10_s = _run(["ingest", "--no-progress", str(more)], grown)
    export_add10_s = _run(["export", "chroma", str(root / "copy-grown")], grown)
    generation_mb = _mb(_generation(full))
    out = {
        "exact": {"ingest_s": ingest_s, "add10_s": add10_s, "generation_mb": generation_mb, "chroma_mb": 0.0},
        "exact + chroma copy": {"ingest_s": ingest_s + export_s, "add10_s": add10_s + export_add10_s,
                                "generation_mb": generation_mb, "chroma_mb": _mb(root / "copy-full")},
    }  # fmt: skip
    if server:
        with _chroma_server(root / "server-full") as url:
            data = fresh("server-full-data")
            ingest_s = _run(["ingest", "--no-progress"], data, PAPERBOT_INDEX__CHROMA_URL=url)
            generation_mb, chroma_mb = _mb(_generation(data)), _mb(root / "server-full")
        with _chroma_server(root / "server-grown") as url:
            data = fresh("server-grown-data")
            _run(["ingest", "--no-progress", str(base)], data, PAPERBOT_INDEX__CHROMA_URL=url)
            add10_s = _run(["ingest", "--no-progress", str(more)], data, PAPERBOT_INDEX__CHROMA_URL=url)
        out["chroma-server"] = {"ingest_s": ingest_s, "add10_s": add10_s, "generation_mb": generation_mb,
                                "chroma_mb": chroma_mb}  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m evals.bench.vector_stores", description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--server", action="store_true", help="also measure a Chroma server (`chroma run` on loopback)")
    ap.add_argument("--cache", type=Path, help="an embeddings.sqlite that has the bundled corpus (skips the warm-up)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    papers = merge_papers([], [p for f in expand_paths([BUNDLED_CORPUS]) for p in read_papers(f)])
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base, more = root / "base.jsonl", root / "more.jsonl"
        base.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in papers[:-ADDED]))
        more.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in papers[-ADDED:]))
        cache = args.cache
        if cache is None:
            (root / "warm-up").mkdir()
            _run(["ingest", "--no-progress"], root / "warm-up")
            cache = root / "warm-up" / "embeddings.sqlite"
        for i in range(args.repeat):
            (root / f"run{i}").mkdir()
            runs.append(run_once(root / f"run{i}", cache, base, more, args.server))
    result = {
        store: {k: round(statistics.median(r[store][k] for r in runs), 2) for k in runs[0][store]} for store in runs[0]
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"bundled corpus: {len(papers)} papers; medians of {args.repeat} runs (each a paperbot process)")
    print(f"{'store':<22}{'ingest_s':>10}{'add10_s':>10}{'generation_mb':>15}{'chroma_mb':>11}")
    for store, r in result.items():
        times = f"{r['ingest_s']:>10.2f}{r['add10_s']:>10.2f}"
        print(f"{store:<22}{times}{r['generation_mb']:>15.1f}{r['chroma_mb']:>11.1f}")


if __name__ == "__main__":
    main()
