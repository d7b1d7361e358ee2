"""ingest_embedder='auto': a small ingest with the ONNX export in place never imports torch;
a big one encodes with torch (the traced model, or sentence-transformers); the vectors are
the same either way (one embedding cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embedding.embedders import IngestEmbedder, exported_onnx, load_ingest_embedder
from index.embedding.precision import choose_precision, host_bf16
from index.settings import IndexSettings

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent / "data"
INGEST = r"""
import json, sys
from index.ingest import ingest
from index.settings import Settings
from pathlib import Path
report = ingest(Settings(), [Path(sys.argv[1])])
print(json.dumps({"embedded": report.embedded, "torch": "torch" in sys.modules}))
"""


def _ingest(data: Path, export: Path, corpus: Path, **env: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PAPERBOT_INDEX__DATA_DIR": str(data),
           "PAPERBOT_INDEX__EXPORT_DIR": str(export), **env}  # fmt: skip
    r = subprocess.run([sys.executable, "-c", INGEST, str(corpus)], env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_small_ingest_skips_torch_big_one_uses_it(tmp_path):
    export = exported_onnx(IndexSettings()).parent  # the user's export, shared with the other tests
    small = _ingest(tmp_path / "a", export, DATA / "papers.jsonl")
    assert small == {"embedded": small["embedded"], "torch": False} and small["embedded"] > 0
    big = _ingest(tmp_path / "b", export, DATA / "papers.jsonl", PAPERBOT_INDEX__INGEST_ONNX_BELOW="0")
    assert big["torch"] is True and big["embedded"] == small["embedded"]
    # no export yet: torch encodes (the model traced for it), and the export is made for the queries
    fresh_export = tmp_path / "export2"
    first = _ingest(tmp_path / "c", fresh_export, DATA / "papers.jsonl")
    assert first["torch"] is True and any(fresh_export.glob("*.onnx"))
    assert any(fresh_export.glob("*.torchscript.pt"))


def test_both_runtimes_fill_one_cache_alike(tmp_path):
    settings = IndexSettings()
    exported_onnx(settings)
    texts = [json.loads(line)["abstract"] for line in (DATA / "papers.jsonl").open()]
    light = IngestEmbedder(settings)
    heavy = IngestEmbedder(settings.model_copy(update={"ingest_onnx_below": 0, "ingest_precision": "fp32"}))
    light.plan(len(texts))
    heavy.plan(len(texts))
    assert (light.runtime, heavy.runtime) == ("onnx", "torchscript")
    st = load_ingest_embedder(settings.model_copy(update={"ingest_embedder": "sentence-transformers"}))
    assert light.name == heavy.name == st.name and light.count_tokens(texts) == heavy.count_tokens(texts)
    vectors = st.embed(texts)
    assert (light.embed(texts) * vectors).sum(axis=1).min() > 0.9999
    assert (heavy.embed(texts) * vectors).sum(axis=1).min() > 0.9999
    # the traced model on one text, unpadded, equals sentence-transformers in a padded batch
    assert np.allclose(heavy.embed(texts[:1])[0], vectors[0], atol=1e-5)
    assert np.allclose(np.linalg.norm(light.embed(texts), axis=1), 1.0, atol=1e-5)


def test_bf16_trace_gives_the_same_vectors_in_the_same_cache(tmp_path):
    """bf16 (what 'auto' picks on a CPU with AMX; forced here, so it runs, emulated, anywhere)
    fills the one embedding cache: its vectors must be fp32's to cosine 0.9999."""
    settings = IndexSettings(export_dir=tmp_path, ingest_onnx_below=0)
    texts = [json.loads(line)["abstract"] for line in (DATA / "papers.jsonl").open()]
    fp32 = IngestEmbedder(settings.model_copy(update={"ingest_precision": "fp32"}))
    bf16 = IngestEmbedder(settings.model_copy(update={"ingest_precision": "bf16"}))
    bf16.plan(len(texts))
    # This CPU's bf16 route: cast weights (AMX, or emulated), or autocast where AVX-512 BF16 is
    # native without AMX (AMD EPYC): CI hosts differ.
    route = choose_precision("bf16", host_bf16())
    assert bf16.runtime == f"torchscript-{route}" and bf16.name == fp32.name
    assert any(tmp_path.glob(f"*.{route}.torchscript.pt"))
    a, b = fp32.embed(texts), bf16.embed(texts)
    assert b.dtype == np.float32 and np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() > 0.9999 and cosines.max() < 1 - 1e-7  # close, and really bf16
