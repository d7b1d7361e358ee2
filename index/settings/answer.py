"""Answering (PAPERBOT_ANSWER__*): the extractive answer and the refusal model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from index.settings.section import Section


class AnswerSettings(Section):
    max_citations: int = Field(3, ge=1, description="Papers the extractive answer quotes at most.")
    cite_min_similarity: float = Field(
        0.45,
        description="Besides the strongest paper (always quoted when the question is answered), a "
        "retrieved paper is quoted only if its best sentence reaches this cosine similarity...",
    )
    cite_relative: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="...and at least this fraction of the strongest paper's. Chosen on the dev "
        "questions for citation precision without losing multi-paper answers.",
    )
    cite_relative_several: float = Field(
        0.75,
        ge=0.0,
        le=1.0,
        description="cite_relative for a question that asks for several papers ('which papers...', "
        "'what do we have on...', bot/query/several.py), never tighter than it; a paper admitted only "
        "on this looser bound must also hold one of the hyphenated compounds of the question that the "
        "strongest paper holds ('multiplication-free' is not 'context-free'). Chosen on the dev "
        "questions (742 answerable, 82 asking for several): the multi-paper questions' citation "
        "recall 0.720 -> 0.833, their precision 0.872 -> 0.857, those citing every gold paper 46 -> 62; "
        "over all, precision 0.937 -> 0.936. Set it to cite_relative to turn it off.",
    )
    contribution_bonus: float = Field(
        0.03,
        ge=0.0,
        description="Added to the similarity of sentences that state a contribution ('we propose…') "
        "when choosing which sentence of a paper to quote (chosen on dev for fact coverage).",
    )
    lead_sentences: int = Field(
        3,
        ge=1,
        le=3,
        description="Sentences quoted from the strongest paper at most (its best ones by sentence score, "
        "in the abstract's order, within max_words); the other papers get one each.",
    )
    max_words: int = Field(
        80,
        ge=10,
        description="Words the strongest paper's quote may reach with its extra sentences (its best "
        "sentence alone may be longer): a single-paper answer stays about this short.",
    )
    overlap_weight: float = Field(
        0.5,
        ge=0.0,
        description="Sentence score: weight of the idf-weighted share of the question's content words "
        "a sentence contains (added to its cosine similarity to the question). Chosen with type_weight "
        "and focus_weight on the dev questions (python -m evals.fit.answer, the dev questions with the "
        "s-set): fact coverage in the first 80 words 0.739 (answerable questions, all answered), "
        "inside a plateau of 0.736-0.740 (type 0.6-1.0, focus 0.3-1.0); 0.678 before focus_weight "
        "with overlap 1.0 and type 0.4.",
    )
    type_weight: float = Field(
        0.8,
        ge=0.0,
        description="Sentence score: weight of the share of the kinds of answer the question asks for "
        "(a figure for 'how many', a name for 'which method', a comparison, a method) that a sentence "
        "has; see bot/answer/sentences.py.",
    )
    specificity_weight: float = Field(
        0.5,
        ge=0.0,
        description="Sentence score: weight of the specific terms a sentence adds to the question (names "
        "like LSBlock or GLEN, hyphenated terms, figures like 6.6x; up to 3 count; see bot/answer/sentences.py). "
        "The asked detail is rarely in the sentence that restates the question's topic. Chosen "
        "with background_penalty on the dev questions for fact coverage in the first 80 words, inside "
        "a plateau of weights from 0.3 to 0.8 (`python -m evals.fit.answer`).",
    )
    focus_weight: float = Field(
        0.6,
        ge=0.0,
        description="Sentence score: weight of the idf-weighted share of what the question asks for "
        "('what **top-1 accuracy** did ...', bot/query/focus.py) that a sentence names, on top of "
        "overlap_weight (which counts every content word of the question alike). 0.3-1.0 hold on dev.",
    )
    background_penalty: float = Field(
        0.2,
        ge=0.0,
        description="Sentence score: subtracted for the abstract's opening sentence and sentences that "
        "set the scene ('In recent years…', '…has attracted attention', 'Existing methods…'); the "
        "field's background is not what was asked. Chosen with specificity_weight (0.1-0.3 hold).",
    )
    cite_min_coverage: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="A further paper (besides the strongest) is cited only if its title and abstract "
        "hold at least this idf-weighted share of the question's content words: it answers part "
        "of the question on its own, not only the topic. 0.3 on the dev questions "
        "(python -m evals.fit.answer --citations): citation precision 0.93, recall 0.92 "
        "(answerable questions, all answered); 0.5 and up lose multi-paper recall.",
    )
    answerability: Literal["model", "similarity"] = Field(
        "model",
        description="How to decide that the corpus cannot answer: 'model' (a logistic model, "
        "bot/fitted/refusal.json, over sentence similarity, content-word coverage and late "
        "interaction; fitted on the dev questions by `python -m evals.fit.refusal`; used only with "
        "the embedding model it was fitted on) or 'similarity' "
        "(retrieval.min_similarity alone, the fallback for other models).",
    )
    answer_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="With answerability 'model': answer when p(answerable) reaches this; None: the "
        "threshold fitted with the model. Lower answers more and refuses less.",
    )
    tentative_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="With answerability 'model': below answer_threshold but at least this, the "
        "answer is tentative (the closest evidence, quoted with a caveat; with an LLM backend the "
        "LLM reads the abstracts and judges); below it, a refusal listing the nearest papers. "
        "None: the threshold fitted with the model (both fitted on the dev questions by "
        "`python -m evals.fit.refusal`). Set it equal to answer_threshold for a plain yes/no gate.",
    )
