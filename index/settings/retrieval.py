"""Retrieval and the query (PAPERBOT_RETRIEVAL__*): retrievers, fusion, spelling, translation,
the refusal threshold."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from index.settings.section import Section


class RetrievalSettings(Section):
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="hybrid fuses dense (the nearest chunk vectors) and BM25; the others are baselines."
    )
    top_k: int = Field(5, ge=1, description="Papers returned by search and shown to the answerer.")
    candidates: int = Field(
        50,
        ge=1,
        description="Papers taken from each retriever before fusion (at least k). 50 halves search "
        "latency against 100 for -0.0015 nDCG@10 on SciFact train; evaluation asks for k=100.",
    )
    fusion: Literal["rrf", "weighted", "learned"] = Field(
        "weighted",
        description="'rrf': reciprocal-rank fusion; 'weighted': convex combination of "
        "per-query normalised scores; 'learned': both retrievers' candidates re-ranked by a "
        "linear model fitted on SciFact train (bot/retrieval/learned_fusion.py; weighted when the embedding "
        "model is not the one it was fitted with).",
    )
    rrf_k: int = Field(60, ge=1, description="Rank offset for reciprocal-rank fusion.")
    dense_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Weight of the dense score in 'weighted' fusion."
    )
    translated_dense_weight: float = Field(
        0.0, ge=0.0, le=1.0,
        description="dense_weight for a question in another language searched for by its English "
        "terms (translate): the model reads a bag of glossary terms less well than a sentence, so "
        "BM25 alone ranks them by default. Chosen on the dev questions in other languages (6): "
        "nDCG@10 0.772 at 0, 0.750 at 0.25, 0.717 at 0.5; English questions are not affected.",
    )
    min_similarity: float = Field(
        0.50,
        description="When answer.answerability is 'similarity' (or the embedding model is not the one "
        "the answerability model was fitted on): refuse ('no evidence in the corpus') when the "
        "evidence score (mean of the best "
        "chunk similarity and the best sentence-or-title similarity among the retrieved papers) is "
        "below this. Chosen for balanced accuracy on the dev questions "
        "(evals/questions/bundled_dev.jsonl), never the test set.",
    )
    bm25_stemmer: str = Field(
        "english", description="Snowball stemmer language for BM25, or '' for none."
    )
    spelling: bool = Field(
        True,
        description="Correct words of an English question that the corpus does not know to the "
        "nearest frequent corpus word (one or two edits; bot/query/spelling.py) before searching.",
    )
    translate: bool = Field(
        True,
        description="Search for a question in another language (fr, es, de, it, pt, nl, zh, ja, ko, "
        "ru) by its technical terms in English, through a glossary of ML vocabulary "
        "(bot/query/glossary.py), keeping its acronyms, names and figures. The answer says so.",
    )
