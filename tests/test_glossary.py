"""A question in another language is searched for by its terms in English (bot/query/glossary.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.query import glossary

DATA = Path(__file__).parent / "data"


@pytest.fixture
def small_glossary(tmp_path, monkeypatch):
    path = tmp_path / "glossary.tsv"
    path.write_text(
        "# German\n"
        "de\tgärtner\tgardeners\n"
        "de\ttomaten\ttomatoes\n"
        "de\texperten\texperts\n"
        "de\tmaschinelles lernen\tmachine learning\n"
        "de\tlernen\tlearning\n"
        "de\tlogisches schließen\tlogical reasoning\n"
        "fr\tréseau\tnetwork\n"
        "zh\t持续学习\tcontinual learning\n"
        "zh\t参数\tparameters\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(glossary, "GLOSSARY", path)
    glossary.entries.cache_clear()
    glossary._pattern.cache_clear()
    yield path
    glossary.entries.cache_clear()
    glossary._pattern.cache_clear()


def test_terms_phrases_first_acronyms_and_figures_kept(small_glossary):
    known = {"training", "parameter"}.__contains__
    q = "Gibt es maschinelles Lernen mit GNN-Training auf ImageNet 128x128 und Parameter ohne Lernen?"
    assert glossary.to_english(q, "German", known) == "machine learning GNN-Training ImageNet 128x128 Parameter learning"
    # unspaced scripts: substrings; the Latin tokens as asked
    q = "有没有一篇持续学习的论文，给CNN加参数？384×384"
    assert glossary.to_english(q, "Chinese") == "continual learning CNN parameters 384×384"


def test_words_the_corpus_shares_once_accents_go_or_one_edit_away(small_glossary):
    known = {"recurrent", "combine"}.__contains__
    near = {"bidirectionnel": "bidirectional", "analyse": "analysis", "fixe": "fix"}.get
    q = "Quel réseau combine récurrent et bidirectionnel pour une analyse fixe?"
    # "fixe" is too short to trust an edit: dropped
    assert glossary.to_english(q, "French", known, near) == "network combine recurrent bidirectional analysis"


def test_how_phones_and_slack_type_it_matches_too(small_glossary):
    """Typographic apostrophes and decomposed accents match the glossary's terms; a letter whose
    lower case is longer ("İ") does not shift what is kept; names keep their joiners; one- and
    two-letter words are never searched for."""
    small_glossary.write_text(
        "fr\tpeu d'exemples\tfew-shot\nfr\tréseau\tnetwork\nde\tlernen\tlearning\n", encoding="utf-8"
    )
    glossary.entries.cache_clear()
    glossary._pattern.cache_clear()
    known = {"l", "de", "un", "llama"}.__contains__
    assert glossary.to_english("Un re\u0301seau à peu d\u2019exemples, l'été de Llama-2?", "French", known) == "network few-shot Llama-2"
    assert glossary.to_english("İİİİ Lernen mit GPT-4 und 3.5 Mrd. ImageNet", "German") == "learning GPT-4 3.5 ImageNet"


def test_every_glossary_language_is_one_the_detector_names():
    from bot.query.language import _FUNCTION_WORDS, _SCRIPTS

    assert set(glossary.CODES) <= set(_FUNCTION_WORDS) | set(_SCRIPTS.values())


def test_nothing_to_translate_is_none(small_glossary):
    assert glossary.to_english("Quel est le point d'ébullition du tungstène?", "French") is None
    assert glossary.to_english("Gibt es hier nichts?", "German") is None
    assert glossary.to_english("Что-то", "Greek") is None


def test_a_malformed_line_fails_at_start_with_its_line_number(small_glossary):
    small_glossary.write_text("de\tgärtner\tgardeners\nde\tkaputt\n", encoding="utf-8")
    glossary.entries.cache_clear()
    with pytest.raises(glossary.GlossaryError, match=r"glossary.tsv:2: want"):
        glossary.check()


def test_the_bundled_glossary_is_well_formed_and_covers_each_language():
    table = glossary.entries()
    assert set(table) == set(glossary.CODES.values())
    assert all(len(terms) >= 100 for terms in table.values()), {c: len(t) for c, t in table.items()}
    assert all(e.isascii() for terms in table.values() for e in terms.values())


def test_a_german_question_is_answered_from_its_english_terms(fake_settings, small_glossary):
    from bot.answer.answerer import Answerer
    from index.ingest import ingest
    from index.reader import open_index

    ingest(fake_settings, [DATA / "papers.jsonl"])
    q = "Welche Arbeit zeigt, dass die Gärtner Tomaten an Experten weiterleiten?"
    a = Answerer(fake_settings, open_index(fake_settings))(q)
    assert a.hits[0].paper.title == "Sparse Mixture of Gardeners"
    assert "German" in a.notice and 'searched for: "gardeners tomatoes experts"' in a.notice
    off = fake_settings.model_copy(deep=True)
    off.retrieval.translate = False
    b = Answerer(off, open_index(off))(q)
    assert "searched for" not in b.notice


def test_translated_questions_are_ranked_with_their_own_dense_weight(fake_settings, small_glossary, monkeypatch):
    """A question searched for by its English terms is fused with translated_dense_weight; an
    English question with dense_weight."""
    import bot.retrieval.search as retrieval
    from bot.query.query import understand
    from index.ingest import ingest
    from index.reader import open_index

    ingest(fake_settings, [DATA / "papers.jsonl"])
    seen = []
    real = retrieval.fuse
    monkeypatch.setattr(retrieval, "fuse", lambda d, l, s: seen.append(s.dense_weight) or real(d, l, s))
    fake_settings.retrieval.dense_weight, fake_settings.retrieval.translated_dense_weight = 0.5, 0.0
    index = open_index(fake_settings)
    german = "Welche Arbeit zeigt, dass die Gärtner Tomaten an Experten weiterleiten?"
    hits = retrieval.search(index, understand(index, german, fake_settings.retrieval), fake_settings.retrieval)
    retrieval.search(index, understand(index, "how do gardeners route tomatoes?", fake_settings.retrieval), fake_settings.retrieval)
    assert seen == [0.0, 0.5] and hits[0].paper.title == "Sparse Mixture of Gardeners"


@pytest.fixture
def iberian_glossary(tmp_path, monkeypatch):
    path = tmp_path / "glossary.tsv"
    path.write_text(
        "es\tpreguntas\tquestions\nes\trespuestas\tanswers\n"
        "pt\tperguntas\tquestions\npt\trespostas\tanswers\npt\tcódigo\tcode\n"
        "it\tdomande\tquestions\nfr\tréponses\tanswers\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(glossary, "GLOSSARY", path)
    for cached in (glossary.entries, glossary._pattern):
        cached.cache_clear()
    yield path
    for cached in (glossary.entries, glossary._pattern):
        cached.cache_clear()


def test_the_glossary_that_reads_a_question_names_its_language(iberian_glossary):
    """Spanish and Portuguese share most function words: a question the detector calls Spanish
    but whose terms only the Portuguese glossary knows is read as Portuguese; a question whose
    detected language's glossary knows a term keeps it, and a tie keeps the detector's call."""
    portuguese = "Existe algum conjunto de perguntas e respostas para modelos de código?"
    assert glossary.glossary_language(portuguese, "Spanish") == "Portuguese"
    assert glossary.glossary_language("Hay un conjunto de preguntas para modelos?", "Spanish") == "Spanish"
    assert glossary.glossary_language("Existe algo nuevo para modelos?", "Spanish") == "Spanish"  # none knows it
    assert glossary.glossary_language("domande e réponses", "Spanish") == "Spanish"  # one each: a tie
    assert glossary.matched_terms(portuguese, "Portuguese") == 3
    assert glossary.glossary_language(portuguese, "Swedish") == "Swedish"  # no glossary: its own name


def test_a_term_with_sharp_s_matches_as_written_and_as_ss(small_glossary):
    """Terms are compared case folded, which writes "ß" as "ss"; a question may use either."""
    assert glossary.to_english("Logisches Schließen mit Tomaten", "German") == "logical reasoning tomatoes"
    assert glossary.to_english("logisches schliessen", "German") == "logical reasoning"
