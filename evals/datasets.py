"""What `paperbot eval run` can measure on: paperbot's own question sets (JSONL, over the
user's index) and BEIR folders (corpus.jsonl, queries.jsonl, qrels/<split>.tsv; each gets an
index of its own). Both become a list of Questions with their gold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from index.errors import BadInput
from index.settings import Settings
from evals.beir import BeirSet, beir_settings, load_beir
from evals.questions import (
    BUNDLED_DEV,
    BUNDLED_DEV_TYPOS,
    BUNDLED_TEST,
    BUNDLED_TEST_TYPOS,
    DEV_ARXIV,
    DEV_ARXIV2,
    DEV_ARXIV2_PAPERS,
    DEV_ARXIV2_TYPOS,
    DEV_ARXIV3,
    DEV_ARXIV3_PAPERS,
    DEV_ARXIV3_TYPOS,
    DEV_ARXIV4,
    DEV_ARXIV4_PAPERS,
    DEV_ARXIV4_TYPOS,
    DEV_ARXIV5,
    DEV_ARXIV5_PAPERS,
    DEV_ARXIV5_TYPOS,
    DEV_ARXIV6,
    DEV_ARXIV6_PAPERS,
    DEV_ARXIV6_TYPOS,
    DEV_ARXIV_PAPERS,
    DEV_ARXIV_TYPOS,
    TEST_PAPERS,
    Question,
    load_questions,
)
from index.text import content_hash

# Every question set once: its name, its file, its misspelt copy's file (named NAME-typos), and
# the papers added to the configured corpus for it (None: the corpus alone). The bundled corpus
# has no paper left that no question uses, so each fresh set is written on papers of its own.
_SETS = (
    ("bundled-dev", BUNDLED_DEV, BUNDLED_DEV_TYPOS, None),
    ("bundled-dev-arxiv", DEV_ARXIV, DEV_ARXIV_TYPOS, DEV_ARXIV_PAPERS),
    ("bundled-dev-arxiv2", DEV_ARXIV2, DEV_ARXIV2_TYPOS, DEV_ARXIV2_PAPERS),
    ("bundled-dev-arxiv3", DEV_ARXIV3, DEV_ARXIV3_TYPOS, DEV_ARXIV3_PAPERS),
    ("bundled-dev-arxiv4", DEV_ARXIV4, DEV_ARXIV4_TYPOS, DEV_ARXIV4_PAPERS),
    ("bundled-dev-arxiv5", DEV_ARXIV5, DEV_ARXIV5_TYPOS, DEV_ARXIV5_PAPERS),
    ("bundled-dev-arxiv6", DEV_ARXIV6, DEV_ARXIV6_TYPOS, DEV_ARXIV6_PAPERS),
    ("bundled-test", BUNDLED_TEST, BUNDLED_TEST_TYPOS, TEST_PAPERS),
)
# 'bundled' is the test set's first name, kept because reports and floors files use it.
NAMED = {"bundled": BUNDLED_TEST} | {
    n: f for name, clean, typos, _ in _SETS for n, f in ((name, clean), (f"{name}-typos", typos))
}
# Every clean set with its misspelt copy: dev's, then the test set's (held out like it).
TYPO_PAIRS = tuple((name, f"{name}-typos") for name, *_ in _SETS)
# The dev sets, as the fit and tuning scripts read them by default: each clean set with its
# misspelt copy.
DEV = tuple(pair for pair in TYPO_PAIRS if pair[0] != "bundled-test")
# Question files asked over the configured corpus plus the papers added for them.
PAPERS = {f: papers for _, clean, typos, papers in _SETS if papers for f in (clean, typos)}


def same_dataset(a: str, b: str) -> bool:
    """Whether two dataset names are the same set ('bundled' and 'bundled-test' are)."""
    return NAMED.get(a, a) == NAMED.get(b, b)


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: Literal["questions", "beir"]
    source: Path
    questions: tuple[Question, ...]
    beir: BeirSet | None = None  # BEIR only: its corpus is ingested into its own index
    papers: Path | None = None  # papers added to the configured corpus for these questions

    def base_settings(self, settings: Settings) -> Settings:
        """The settings whose index the questions are asked against: BEIR's own; the configured
        corpus with ``papers`` in an index of their own (never the user's); else the user's."""
        if self.beir is not None:
            return beir_settings(settings, self.beir)
        if self.papers is None:
            return settings
        tag = content_hash(self.papers.read_text(encoding="utf-8"))[:8]
        update = {"name": f"{settings.index.name}-{self.papers.stem}-{tag}", "corpus": [*settings.index.corpus, self.papers]}
        return settings.model_copy(update={"index": settings.index.model_copy(update=update)})

    def limited(self, n: int | None) -> "Dataset":
        if not n:
            return self
        return Dataset(self.name, self.kind, self.source, self.questions[:n], self.beir, self.papers)


def _from_beir(data: BeirSet, split: str) -> tuple[Question, ...]:
    return tuple(
        Question(
            id=qid,
            question=text,
            type=f"beir-{split}",
            gold_ids=tuple(d for d, r in data.qrels[qid].items() if r > 0),
            grades=tuple(sorted(data.qrels[qid].items())),
        )
        for qid, text in data.queries.items()
        if any(r > 0 for r in data.qrels[qid].values())  # all-zero judgments: nothing to find
    )


def load_dataset(spec: str, split: str = "test") -> Dataset:
    """``spec``: 'bundled-dev' (the dev questions), 'bundled-test' or 'bundled' (the test questions), a JSONL question file,
    or a BEIR folder (with ``split`` choosing qrels/<split>.tsv)."""
    path = NAMED.get(spec, Path(spec))
    if path.is_dir():
        data = load_beir(path, split)
        questions = _from_beir(data, split)
        if not questions:
            raise BadInput(
                f"{path}: qrels/{split}.tsv judges no query of queries.jsonl relevant to any document; "
                "check the split and that query ids match."
            )
        return Dataset(f"{data.name}-{split}", "beir", path.resolve(), questions, data)
    if path.is_file():
        questions = tuple(load_questions(path))
        if not questions:
            raise BadInput(f"{path}: no questions in the file; one JSON object a line (see evals/questions.py).")
        name = spec if spec in NAMED else path.stem
        return Dataset(name, "questions", path.resolve(), questions, papers=PAPERS.get(path.resolve()))
    raise BadInput(
        f"{spec}: no such dataset; give 'bundled-dev', 'bundled-test' ('bundled'), a JSONL question file, "
        "or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)."
    )
