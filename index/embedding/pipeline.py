"""The model's pipeline around its transformer, shared by the runtimes that run the exported
graph (onnxruntime for queries, TorchScript for bulk ingest): its own tokenizer (cut at
max_tokens), batches of similar lengths, mean pooling over real tokens, L2 normalisation —
so every runtime gives sentence-transformers' vectors (cosine 1.000) and they share the
embedding cache. tokenizers lives here and nowhere else."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.errors import ConfigError
from index.types import TokenVectors


def whole_words(vocab: dict[str, int]) -> dict[str, int]:
    """A word-piece vocabulary's whole words of letters ("author"; not "##or", "[CLS]"), each
    with its id: word-piece vocabularies list words by frequency, the commonest first."""
    return {w: i for w, i in vocab.items() if w.isalpha()}


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class TokenModel:
    """A runtime subclass sets ``dim`` and implements ``_hidden``: the transformer's token
    embeddings (batch, tokens, dim) for padded int64 inputs."""

    dim: int
    _inputs: set[str] = {"input_ids", "attention_mask", "token_type_ids"}
    _pad_to: int = 1  # a batch's length is rounded up to a multiple of this (padding is masked)

    def __init__(self, model_dir: Path, name: str, max_tokens: int) -> None:
        from tokenizers import Tokenizer

        if not (model_dir / "tokenizer.json").is_file():
            raise ConfigError(
                f"{model_dir} has no tokenizer.json (a fast tokenizer); save the model with a recent "
                "sentence-transformers, or set PAPERBOT_INDEX__EMBEDDER and __INGEST_EMBEDDER to "
                "sentence-transformers."
            )
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self.name = name

    def _hidden(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Similar lengths together: less padding per batch; results go back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._embed_batch([texts[i] for i in rows])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        hidden, mask, _ = self._run(texts)
        weights = mask[:, :, None].astype(np.float32)
        return normalised((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9))

    def token_vectors(self, texts: list[str]) -> list[TokenVectors]:
        """Each text's word pieces (without [CLS] and [SEP]) and their contextual vectors,
        L2-normalised: what late interaction (bot/answer/late_interaction.py) compares."""
        out: list[TokenVectors] = []
        for text in texts:  # one at a time: a question padded to an abstract's length costs 2x
            hidden, _, (e,) = self._run([text])
            inner = [i for i, special in enumerate(e.special_tokens_mask) if not special]
            out.append(TokenVectors(tuple(e.tokens[i] for i in inner), normalised(hidden[0, inner])))
        return out

    def _run(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list]:
        """(token embeddings, attention mask, encodings) of one padded batch."""
        encodings = self._tokenizer.encode_batch(texts)
        width = -(-max(len(e.ids) for e in encodings) // self._pad_to) * self._pad_to
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        types = np.zeros((len(texts), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = e.attention_mask
            types[row, : len(e.ids)] = e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self._hidden({k: v for k, v in feed.items() if k in self._inputs})
        return hidden, mask, encodings

    def words(self) -> dict[str, int]:
        """The tokenizer's whole words of letters, with their ids (an English word list for spelling)."""
        return whole_words(self._tokenizer.get_vocab())

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(texts, add_special_tokens=False)]
