from pathlib import Path

import pytest

from bot.answer.answerer import answer
from bot.answer.extractive import REFUSAL
from index.errors import BadInput
from index.ingest import ingest
from index.reader import open_index

DATA = Path(__file__).parent / "data"


@pytest.fixture
def index(fake_settings):
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv", DATA / "corpus.jsonl"])
    return open_index(fake_settings)


def test_answer_cites_only_retrieved_papers(index, fake_settings):
    a = answer("How do gardeners route tomatoes to experts?", fake_settings, index)
    assert not a.refused
    retrieved = {h.paper.id for h in a.hits}
    assert a.citations and {c.paper.id for c in a.citations} <= retrieved
    assert a.citations[0].paper.id == "u1"
    for c in a.citations:
        assert f"[{c.n}]" in a.text
        assert c.evidence in c.paper.abstract  # quoted, not invented
    assert [c.n for c in a.citations] == list(range(1, len(a.citations) + 1))
    d = a.to_dict()
    assert set(d) >= {"question", "answer", "refused", "citations", "hits"}
    assert set(d["citations"][0]) >= {"n", "paper_id", "title", "abstract", "evidence"}
    assert set(d["hits"][0]) >= {"rank", "paper_id", "title", "abstract", "score"}


def test_refusal_lists_nearest_papers(index, fake_settings):
    fake_settings.retrieval.min_similarity = 0.99
    a = answer("What is the capital of Mongolia?", fake_settings, index)
    assert a.refused and a.text == REFUSAL and not a.citations
    assert a.hits  # nearest papers still listed


@pytest.mark.parametrize("q", ["", "   \n\t"])
def test_empty_question(index, fake_settings, q):
    with pytest.raises(BadInput, match="empty"):
        answer(q, fake_settings, index)


def test_quote_prefers_contribution_sentences(index, fake_settings):
    from bot.answer.evidence import gather_evidence
    from index.types import Paper
    from bot.types import Hit

    paper = Paper(
        id="z", title="", abstract="Tomato routing is hard for gardeners. We propose a router for tomato gardeners."
    )
    hit = Hit(paper=paper, score=1.0)
    # Content-word overlap alone would prefer the first sentence, which has all three words.
    # (Neither the opening-sentence penalty nor specificity: only the contribution bonus decides.)
    alone = {"overlap_weight": 0.0, "background_penalty": 0.0, "specificity_weight": 0.0}
    plain = fake_settings.answer.model_copy(update={**alone, "contribution_bonus": 0.0})
    boosted = fake_settings.answer.model_copy(update={**alone, "contribution_bonus": 0.5})
    q = "tomato routing gardeners"
    assert gather_evidence(index, q, [hit], plain)[0].sentence.startswith("Tomato routing")
    assert gather_evidence(index, q, [hit], boosted)[0].sentence.startswith("We propose")


def test_evidence_score_without_dense_evidence_uses_sentences_alone():
    """BM25-only hits carry no chunk similarity; averaging in a 0 would refuse everything."""
    from bot.answer.evidence import Evidence, evidence_score
    from index.types import Paper
    from bot.types import Hit

    paper = Paper(id="p", title="T", abstract="A sentence.")
    dense_hit = Hit(paper=paper, score=1.0, dense=0.8, lexical=0.0, best_chunk="T. A sentence.")
    bm25_hit = Hit(paper=paper, score=1.0, dense=0.0, lexical=3.0)
    assert evidence_score([dense_hit], [Evidence(dense_hit, "A sentence.", 0.6)]) == pytest.approx(0.7)
    assert evidence_score([bm25_hit], [Evidence(bm25_hit, "A sentence.", 0.6)], dense=False) == pytest.approx(0.6)


def test_bm25_mode_refuses_no_more_than_its_sentences_say(index, fake_settings):
    from bot.answer.evidence import gather_evidence
    from bot.query.query import understand
    from bot.retrieval.search import search

    s = fake_settings.model_copy(deep=True)
    s.retrieval.mode = "bm25"
    q = "How do gardeners route tomatoes to experts?"
    hits = search(index, understand(index, q, s.retrieval), s.retrieval)
    best = max(e.similarity for e in gather_evidence(index, q, hits, s.answer))
    s.retrieval.min_similarity = 0.9 * best  # just under the best sentence's similarity
    a = answer(q, s, index)
    assert not a.refused and a.citations[0].paper.id == "u1"


def test_lead_sentences_quote_the_strongest_papers_two_best_in_order(index, fake_settings):
    q = "How do gardeners route tomatoes to experts?"
    s = fake_settings.model_copy(deep=True)
    s.answer.lead_sentences = 1
    one = answer(q, s, index)
    two = answer(q, fake_settings, index)  # the default quotes two
    abstract = two.citations[0].paper.abstract
    lead = two.text.split(" [1]")[0]
    assert one.text.split(" [1]")[0] in lead and lead != one.text.split(" [1]")[0]
    assert lead == abstract  # u1 has two sentences: both quoted, in the abstract's order
    assert [c.paper.id for c in two.citations] == [c.paper.id for c in one.citations]


def test_a_failed_trace_write_never_loses_the_answer(fake_settings, monkeypatch):
    import sqlite3

    from bot.answer.answerer import Answerer
    from bot.traces import TraceStore
    from index.ingest import ingest
    from index.reader import open_index

    ingest(fake_settings, [Path(__file__).parent / "data" / "papers.jsonl"])
    traces = TraceStore(fake_settings.traces_path)

    def locked(*a, **k):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(traces, "record", locked)
    a = Answerer(fake_settings, open_index(fake_settings), traces=traces)("how do gardeners route tomatoes?")
    assert not a.refused and a.citations and a.run_id


def test_questions_in_other_languages_get_an_english_note_never_a_bare_refusal(fake_settings):
    from bot.answer.answerer import Answerer
    from bot.answer.extractive import REFUSAL
    from index.ingest import ingest
    from index.reader import open_index

    ingest(fake_settings, [__import__("pathlib").Path(__file__).parent / "data" / "papers.jsonl"])
    ask = Answerer(fake_settings, open_index(fake_settings))
    a = ask("Welche Arbeit zeigt, dass die Gärtner Tomaten an Experten weiterleiten?")
    assert "German" in a.notice and "English" in a.notice and a.hits
    strict = fake_settings.model_copy(deep=True)
    strict.retrieval.min_similarity = 2.0  # nothing is close enough: a refusal
    b = Answerer(strict, open_index(strict))("Quel est le point d'ébullition du tungstène et pourquoi est-il si élevé?")
    assert b.refused and b.text != REFUSAL and "French" in b.text and b.hits
    assert not ask("how do gardeners route tomatoes to experts?").notice


def test_language_detection_on_the_bundled_question_sets():
    """Every question written in another language is recognised; no English one is flagged."""
    import json

    from bot.query.language import non_english
    from evals.questions import BUNDLED_DEV, BUNDLED_TEST

    for path in (BUNDLED_DEV, BUNDLED_TEST):
        for line in path.open():
            q = json.loads(line)
            if q["type"] == "adversarial-language":
                assert non_english(q["question"]), q["question"]
            elif not q["question"].startswith(("Olvida", "Ignora", "Oubliez", "Vergiss")):  # injections in Spanish…
                assert non_english(q["question"]) is None, q["question"]


def test_a_further_paper_is_cited_only_when_it_holds_the_questions_words():
    """Topical similarity is not enough for a second citation: the paper must contain enough
    of what the question asks about to answer part of it on its own."""
    from bot.answer.evidence import Evidence
    from bot.answer.extractive import select_cited
    from index.settings import AnswerSettings
    from index.types import Paper
    from bot.types import Hit

    def ev(pid: str, similarity: float, coverage: float) -> Evidence:
        return Evidence(Hit(Paper(id=pid, title="", abstract="x."), 1.0), "x.", similarity, ("x.",), coverage)

    s = AnswerSettings(cite_min_similarity=0.45, cite_relative=0.9, cite_min_coverage=0.3)
    lead, answers_part, only_topical, far = ev("a", 0.7, 0.8), ev("b", 0.68, 0.5), ev("c", 0.69, 0.1), ev("d", 0.5, 0.9)
    assert [e.hit.paper.id for e in select_cited([lead, answers_part, only_topical, far], s)] == ["a", "b"]
    # The top-ranked paper leads even when a later one's sentence scores higher.
    assert select_cited([ev("low", 0.3, 0.1), lead], s)[0].hit.paper.id == "low"


@pytest.mark.integration
def test_single_paper_answers_stay_short(real_index):
    """At most lead_sentences sentences of about max_words words from the strongest paper."""
    from bot.answer.answerer import Answerer
    from index.vocabulary import words
    from index.settings import Settings

    s = Settings(index={"data_dir": real_index.settings.index.data_dir})
    a = Answerer(s, real_index)("How many bugs did the LLM-driven fuzzer for any input language find?")
    assert not a.refused and a.citations
    lead = a.text.split(" [1]")[0]
    assert "76 bugs" in lead  # the asked figure, not only the topic
    assert len(lead.split(". ")) <= s.answer.lead_sentences
    assert len(words(lead)) <= s.answer.max_words + 40  # the best sentence alone may run longer


@pytest.mark.integration
def test_the_answerability_model_refuses_off_corpus_questions_and_lists_the_nearest(real_index):
    from bot.answer.answerer import Answerer
    from bot.answer.extractive import REFUSAL
    from index.settings import Settings

    s = Settings(index={"data_dir": real_index.settings.index.data_dir})
    ask = Answerer(s, real_index)
    assert ask.refusal_model is not None  # the fitted model, not the similarity fallback
    off = ask("How do I file the expense report for my conference trip?")
    assert off.refused and off.text == REFUSAL and off.hits and not off.citations
    on = ask("Which papers make LLMs multiplication-free?")
    assert not on.refused and "ShiftAddLLM" in on.citations[0].paper.title
    assert len(on.citations) == 1  # no neighbouring paper that does not answer it
