"""Queries embed with onnxruntime (no torch): the same vectors as sentence-transformers,
the same token counts, and an `ask` process that never imports torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embedding.embedders import load_embedder
from index.vectors.base import CHUNKS
from index.settings import IndexSettings

pytestmark = pytest.mark.integration


def test_onnx_vectors_equal_sentence_transformers(real_index, tmp_path):
    texts = [json.loads(line)["text"] for line in (real_index.generation.path / CHUNKS).open()][:200]
    texts += ["what is LoRA?", "x", "Welche Arbeiten machen LLMs multiplikationsfrei? 🤖"]
    data = real_index.settings.index.data_dir
    onnx = load_embedder(IndexSettings(data_dir=data, embedder="onnx"))
    torch = load_embedder(IndexSettings(data_dir=data, embedder="sentence-transformers"))
    a, b = onnx.embed(texts, batch_size=16), torch.embed(texts, batch_size=16)
    assert (a * b).sum(axis=1).min() > 0.9999
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert onnx.count_tokens(texts) == torch.count_tokens(texts)
    assert onnx.name == torch.name  # one embedding cache for both runtimes
    # a text is embedded alike alone and in any batch (padding does not leak into it)
    assert np.allclose(onnx.embed([texts[5]])[0], a[5], atol=1e-5)


def test_token_vectors_equal_sentence_transformers_and_match_word_by_word(real_index):
    """Late interaction (bot/answer/late_interaction.py) reads the same token vectors from either
    runtime, and through them a paper matches the question words it has, not the others."""
    from bot.answer.late_interaction import content, late_features, matches
    from bot.types import Hit

    data = real_index.settings.index.data_dir
    onnx = load_embedder(IndexSettings(data_dir=data, embedder="onnx"))
    torch = load_embedder(IndexSettings(data_dir=data, embedder="sentence-transformers"))
    with real_index.use() as idx:
        paper = next(p for p in idx.papers.values() if p.title and len(p.abstract) > 1500)
    texts = [f"{paper.title} {paper.abstract}", "how does GRPO compute advantages w/o a critic?"]
    a, b = onnx.token_vectors(texts), torch.token_vectors(texts)
    for x, y in zip(a, b):
        assert x.tokens == y.tokens and "[CLS]" not in x.tokens and "[SEP]" not in x.tokens
        assert (x.vectors * y.vectors).sum(axis=1).min() > 0.999
        assert np.allclose(np.linalg.norm(x.vectors, axis=1), 1.0, atol=1e-5)
    assert len(a[0].tokens) == real_index.settings.index.max_tokens - 2  # cut like the model reads it
    assert any(t.startswith("##") for t in a[1].tokens)  # "GRPO" is word pieces to the model
    assert len(content(a[1])) < len(a[1].tokens)  # "how", "does", "w", "/", "?" are not content
    own = matches(content(onnx.token_vectors([paper.title])[0]), a[0])
    assert own.min() > 0.5  # every title word finds itself in the paper
    hit = Hit(paper=paper, score=1.0, dense=0.5, lexical=1.0)
    asked_own = late_features(real_index, paper.title, [hit])
    asked_other = late_features(real_index, texts[1], [hit])
    assert asked_own["late_mean"] > asked_other["late_mean"] + 0.15
    assert asked_own["late_low"] > asked_other["late_low"]


def test_ask_never_imports_torch(real_index_dir: Path):
    code = (
        "import sys\n"
        "from evals.cli import main\n"
        "rc = main(['ask', '--json', 'Which papers make LLMs multiplication-free?'])\n"
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'llama_index.core',"
        " 'chromadb') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PAPERBOT_INDEX__DATA_DIR": str(real_index_dir)}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "HEAVY []" in r.stderr, r.stderr
    assert json.loads(r.stdout)["citations"]
