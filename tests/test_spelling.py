"""Spelling correction against the corpus vocabulary."""

from pathlib import Path

from bot.query.query import understand
from bot.query.spelling import Speller, distance
from index.settings import Settings
from index.ingest import ingest
from index.reader import open_index

COUNTS = {"diffusion": 40, "models": 90, "features": 30, "learn": 12, "classifiers": 8, "unit": 5, "init": 1,
          "variant": 6, "score": 9, "launch": 3}  # fmt: skip



def corrected(index, question, s):
    """What search searches for."""
    return understand(index, question, s).searched


def judged(index, question, s):
    """What the refusal model reads."""
    return understand(index, question, s).judged

def test_distance_counts_a_swap_as_one_edit():
    assert distance("modles", "models") == 1 and distance("difusion", "diffusion") == 1
    assert distance("abc", "abcdef", limit=2) == 3  # over the limit: stops early


def test_suggestions():
    sp = Speller.build(COUNTS)
    assert sp.suggest("difusion") == "diffusion" and sp.suggest("modles") == "models"
    assert sp.suggest("featuers") == "features" and sp.suggest("classifers") == "classifiers"
    assert sp.suggest("varient") == "variant"
    assert sp.suggest("zebra") is None  # nothing near: left as asked
    assert sp.suggest("onit") is None  # a short word keeps its first letter ("unit" is another word)


def test_a_short_word_may_start_as_fingers_slip():
    from bot.query.spelling import key_neighbours

    assert set(key_neighbours("s")) == set("adwx") and set(key_neighbours("q")) == set("wa")
    sp = Speller.build({"model": 5, "small": 5, "which": 5, "unit": 5})
    assert sp.suggest("omdel") == "model"  # the first two letters swapped
    assert sp.suggest("xmall") == "small" and sp.suggest("shich") == "which"  # a key next to it
    assert Speller.build({"state": 5, "swift": 5}).suggest("tate") == "state"  # the first letter dropped
    assert sp.suggest("onit") is None and sp.suggest("bmall") is None  # another first key: another word
    assert sp.suggest("init") is None  # four letters: a key apart is another word


def test_the_refusal_model_reads_a_typo_as_a_word_the_corpus_has_once():
    sp = Speller.build({"multivariate": 1, "models": 9})
    assert sp.suggest("mmultivariate") is None  # search corrects to words seen twice only
    assert sp.nearest("mmultivariate") == "multivariate"
    assert sp.nearest("qwzxv") is None


def test_a_long_typo_two_letters_short_of_a_word_finds_it():
    """A long word two edits shorter than the word meant ("diusion": two letters dropped; a
    second slip in a word the user had misspelt already) is out of the deletion lookup's reach,
    which meets the corpus words' one-letter deletions only; the corpus words one or two letters
    longer are scanned too, and the nearest, then the most frequent, wins."""
    sp = Speller.build({"diffusion": 50, "vision": 10, "learning": 9, "different": 9, "difference": 3})
    assert sp.suggest("diusion") == "diffusion"  # not "vision", as near but rarer
    assert sp.suggest("lernung") == sp.nearest("lernung") == "learning"  # "lerning" with u for i
    assert sp.nearest("diffretn") == "different"  # "diffrent" with t and n swapped
    assert sp.nearest("lxqzvwk") is None  # nothing two edits away
    assert Speller.build({"models": 5, "modellers": 50}).suggest("modeles") == "models"  # one edit beats two, however frequent


def test_candidates_are_those_of_a_deletion_index_of_the_corpus():
    """Generated from the question's side, the candidates are SymSpell's: every corpus word
    whose one-letter deletions (or itself) meet the question word's one- or two-letter ones;
    for a long word with none one edit away, the corpus words one or two letters longer too."""
    import random
    import string

    from bot.query.spelling import LONG, MIN_COUNT, _deletions, _same_start

    sp = Speller.build(COUNTS)
    index: dict[str, set[str]] = {}
    for w in (w for w, c in COUNTS.items() if c >= MIN_COUNT):
        for v in _deletions(w) | {w}:
            index.setdefault(v, set()).add(w)

    def by_index(word: str) -> str | None:
        limit = 1 if len(word) < LONG else 2
        variants = _deletions(word) | {word} | ({v2 for v in _deletions(word) for v2 in _deletions(v)} if limit == 2 else set())
        found = {c for v in variants for c in index.get(v, ()) if len(word) >= 6 or _same_start(word, c)}
        if limit == 2 and not any(distance(word, c, 1) <= 1 for c in found):  # and the longer words, scanned
            found |= {c for c in index if c in sp.long_counts and c[0] == word[0] and len(c) - len(word) in (1, 2)}
        ranked = sorted((distance(word, c, limit), -sp.counts[c], c) for c in found)
        return ranked[0][2] if ranked and ranked[0][0] <= limit else None

    edits = lambda w: {w[:i] + c + w[i + k :] for i in range(len(w) + 1) for c in ("", *string.ascii_lowercase) for k in (0, 1)}
    once = sorted({e for w in COUNTS for e in edits(w)})
    rng = random.Random(0)
    words = once[::3] + [rng.choice(sorted(edits(rng.choice(once)))) for _ in range(500)]  # and some twice
    assert sum(by_index(w) is not None for w in words) > 300
    assert [sp.suggest(w) for w in words] == [by_index(w) for w in words]


def test_questions_are_corrected_against_the_index(fake_settings, monkeypatch):
    from index.embedding.embedders import FakeEmbedder

    # The fake embedder reads every word as one token (as if all were English words); here, as
    # the real tokenizer does, only these few are.
    english = {"how", "do", "route", "to", "experts", "gardeners"}
    monkeypatch.setattr(FakeEmbedder, "count_tokens", lambda self, texts: [1 if t in english else 3 for t in texts])
    ingest(fake_settings, [Path(__file__).parent / "data" / "papers.jsonl"])
    index = open_index(fake_settings)
    q = "How do gardners route tomatos to experts?"
    # "gardeners" is a corpus word seen twice; "tomatoes" only once, too rare to correct to.
    assert corrected(index, q, fake_settings.retrieval) == "How do gardeners route tomatos to experts?"
    assert corrected(index, "how do gardeners route tomatoes?", fake_settings.retrieval) == "how do gardeners route tomatoes?"
    off = fake_settings.retrieval.model_copy(update={"spelling": False})
    assert corrected(index, q, off) == q
    german = "Welche Arbeit zeigt, dass die Gärtnner Tomaten weiterleiten?"
    assert corrected(index, german, fake_settings.retrieval) == german  # other languages: as asked


def test_everyday_words_the_corpus_lacks_are_corrected_to_the_models_common_words(monkeypatch):
    """A word the corpus has too rarely to correct to ("author" once) becomes the model's word
    one edit away, unless a corpus word is as near; never a rare word ("parma" for "param")
    nor for a short word ("init" is not "int")."""
    import bot.query.spelling as spelling

    words = {"author": 3166, "hundred": 3634, "smallest": 10479, "int": 20014, "modes": 5000, "parma": 19177,
             "embedded": 7000, "logistics": 8000}  # fmt: skip
    sp = Speller.build({**COUNTS, "scales": 9}, words)
    assert sp.suggest("athor", broken=True) == "author" and sp.suggest("humdred", broken=True) == "hundred"
    assert sp.suggest("athor") is None  # a word the model reads in one or two pieces stays
    assert sp.suggest("smalest", broken=True) == "smallest"  # one edit, where the corpus's "scales" is two
    assert sp.suggest("smalest") == "scales"  # the corpus only: as before
    assert sp.suggest("modles", broken=True) == "models"  # the corpus first when it is as near
    assert sp.suggest("init", broken=True) is None and sp.suggest("zebra", broken=True) is None
    # another ending of the same stem is another word, not a typo
    assert sp.suggest("embedder", broken=True) is None and sp.suggest("logistic", broken=True) is None
    assert sp.suggest("param", broken=True) is None  # "parma" only ends differently
    monkeypatch.setattr(spelling, "MODEL_WORDS", 1)  # the commonest word only: "author"
    assert Speller.build(COUNTS, words).suggest("humdred", broken=True) is None


def test_real_words_the_corpus_lacks_are_left_as_asked(real_index):
    """Through the real tokenizer: typos break into odd pieces and are corrected; technical
    words the bundled corpus lacks read as one or two pieces and stay."""
    s = real_index.settings.retrieval
    q = "logistic regression with a poisson parser, adamw and swish?"
    assert corrected(real_index, q, s) == q
    assert corrected(real_index, "how many humdred smalest", s) == "how many hundred smallest"


def test_a_typo_that_reads_like_an_inflection_is_corrected_to_the_same_word(real_index):
    """"sequencs" ends like a plural of the English word "sequenc(e)", so it used to be left as
    a word; a correction to its own stem is taken ("sequence", "models"), never one to another
    word ("relabeled" stays, not "labeled") or another inflection."""
    s = real_index.settings.retrieval
    # "sequencs" is "sequences" with a letter dropped, "sequence" with a far key struck for the "e"
    assert corrected(real_index, "modells over long sequencs", s) == "models over long sequences"
    for q in ("a relabeled dataset", "retokenized text", "harming uncultured aptamers"):
        assert corrected(real_index, q, s) == q
    from bot.query.spelling import _same_word

    assert _same_word("outputss", "outputs") and _same_word("testts", "tests")
    assert not _same_word("filed", "filled") and not _same_word("hoped", "hopped")
    assert not _same_word("finetuned", "finetunes") and not _same_word("finetunes", "finetuned")


def test_the_refusal_model_reads_a_typo_the_speller_leaves_as_its_nearest_word(real_index):
    """Search keeps an ambiguous typo as asked; whether to answer is judged with it read as the
    nearest known word, so its word pieces do not look like a term no paper has. A word with no
    word near it, a known word with a prefix, and names stay; spelling off, or another
    language, the question is read as asked."""
    s = real_index.settings.retrieval
    q = "naive lienar FM on the simplex is brokken"
    assert corrected(real_index, q, s) == "naive linear FM on the simplex is brokken"
    assert judged(real_index, q, s) == "naive linear FM on the simplex is broken"
    for kept in ("is zyxqwv data harmful", "is relabeled data harmful", "a retokenized corpus", "did WizardCoder win?"):
        assert judged(real_index, kept, s) == kept
    assert corrected(real_index, "modells of sequencs", s) == "models of sequences"  # its own word, in both
    assert judged(real_index, "modells of sequencs", s) == "models of sequences"
    assert judged(real_index, q, s.model_copy(update={"spelling": False})) == q
    french = "Quel est le meilleur modèle pour brokken?"
    assert judged(real_index, french, s.model_copy(update={"translate": False})) == french


def test_the_answerer_judges_and_answers_the_readable_question(real_index, monkeypatch):
    """The refusal model gets the readable text and the evidence gathered for it, and the answer
    quotes the sentences chosen for it too (search keeps the corpus's spellings only)."""
    from bot.answer.answerer import Answerer
    from bot.answer.evidence import gather_evidence

    s = Settings(index={"data_dir": real_index.settings.index.data_dir})
    seen = []

    def verdict(self, index, query, hits, evidence):
        seen.append((query.judged, hits, evidence))
        return "answer"

    monkeypatch.setattr(Answerer, "verdict", verdict)
    a = Answerer(s, real_index)("flow matching for DNA: is naive lienar FM on the simplex brokken?")
    ((question, hits, evidence),) = seen
    assert question == "flow matching for DNA: is naive linear FM on the simplex broken?"
    with real_index.use() as idx:
        assert evidence == gather_evidence(idx, question, hits, s.answer)
        searched = gather_evidence(idx, "flow matching for DNA: is naive linear FM on the simplex brokken?", hits, s.answer)
    assert evidence != searched  # not the evidence for the text search read
    assert not a.refused and a.citations
    assert a.citations[0].evidence == evidence[0].sentence  # quoted from the judged evidence


def test_a_long_typo_becomes_a_word_the_corpus_has_once_when_the_tokenizer_knows_it(real_index):
    """In a small corpus many real words occur once ("submissions"); a word seen once may itself
    be a typo, unless the model's tokenizer has it whole. Short words stay: "adamw" is not "adam"."""
    s = real_index.settings.retrieval
    with real_index.use() as idx:
        assert idx.vocabulary.counts.get("submissions") == 1 and "submissions" in idx.embedder.words()  # the premise
        assert idx.vocabulary.counts.get("adam") == 1 and "adam" in idx.embedder.words()
    assert corrected(real_index, "how many usbmissions broke?", s) == "how many submissions broke?"
    assert corrected(real_index, "is adamw better?", s) == "is adamw better?"
