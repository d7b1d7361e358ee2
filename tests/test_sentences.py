"""Sentence choice for the extractive answer: what the question asks for, and short quotes."""

from bot.answer.sentences import asks, background, pick, score_sentences, specificity
from index.vocabulary import Vocabulary, content_stems, stem
from index.settings import AnswerSettings

ABSTRACT = [
    "Attention needs memory quadratic in sequence length.",
    "We present an algorithm for attention that needs logarithmic memory.",
    "For sequence length 16384, the memory overhead of attention is reduced by 59X.",
    "Code is available at https://github.com/x/y.",
]
VOCAB = Vocabulary.build(ABSTRACT + ["image model", "memory of models"])


def test_question_kinds():
    assert "figure" in asks("By how much did the algorithm cut attention's memory overhead?")
    assert "figure" in asks("How many bugs did the fuzzer find?")
    assert "name" in asks("Which method prunes heads without gradients?")
    assert "comparison" in asks("Is it better than LoRA?")
    assert "method" in asks("How does the model handle long inputs?")
    # "how many ... were trained" asks for a count, not for how they were trained
    assert asks("How many LLMs were trained from scratch to fit the scaling laws?") == {"figure"}
    assert asks("how well does it work?") == {"figure", "method"}
    assert asks("diffusion for proteins") == frozenset()


def test_a_figure_question_quotes_the_sentence_with_the_figure():
    q = "By how much did the new algorithm cut the memory overhead of attention?"
    sims = [0.6, 0.62, 0.55, 0.1]  # topically, the figure's sentence is not the closest
    plain = AnswerSettings(overlap_weight=0.0, type_weight=0.0, contribution_bonus=0.0)
    assert score_sentences(q, ABSTRACT, sims, VOCAB, plain)[0].text == ABSTRACT[1]
    tuned = AnswerSettings()  # the defaults, tuned on dev
    best = score_sentences(q, ABSTRACT, sims, VOCAB, tuned)[0]
    assert best.text == ABSTRACT[2] and best.cue == 1.0 and best.overlap > 0.5


def test_quotes_stay_short_and_in_the_abstracts_order():
    q = "By how much did the algorithm cut memory overhead?"
    scored = score_sentences(q, ABSTRACT, [0.6, 0.62, 0.55, 0.1], VOCAB, AnswerSettings())
    three = pick(scored, AnswerSettings(), 3)
    assert len(three) == 3 and [s.position for s in three] == sorted(s.position for s in three)
    assert [s.text for s in pick(scored, AnswerSettings(), 1)] == [scored[0].text]
    assert all("github" not in s.text for s in pick(scored, AnswerSettings(), 4))  # never a code link
    # Only the best sentence fits a 12-word budget; the best alone may exceed it.
    assert len(pick(scored, AnswerSettings(max_words=12), 3)) == 1


HYPERBOLIC = [
    "Hyperbolic learning has shown great potential for visual understanding.",
    "This paper introduces a residual network that operates entirely in hyperbolic space.",
    "We provide an identity-based initialization, midpoint batch normalization (MBN) and Poincare-ball ResNet layers.",
]


def test_specific_terms_new_to_the_question_count():
    q = "resnet that runs entirely in hyperbolic space?"
    assert specificity(HYPERBOLIC[2], q) == 1.0  # identity-based, MBN, Poincare-ball; ResNet was asked
    assert specificity("We train a ResNet in hyperbolic space.", q) == 0.0
    assert specificity("It is 6.6x faster with LSBlock and RGBlock modules.", q) == 1.0
    assert specificity("The model is trained on images.", q) == 0.0


def test_background_sentences_are_the_openers_and_scene_setting():
    assert background("Anything at all.", 0)
    assert background(HYPERBOLIC[0], 3) and background("In recent years, diffusion models have emerged.", 2)
    assert background("Existing methods rely on point clouds.", 1)
    assert not background(HYPERBOLIC[2], 2) and not background(HYPERBOLIC[1], 1)


def test_a_paper_question_quotes_what_the_paper_adds_not_the_restated_topic():
    # Asking for a paper: the sentence that restates the question is closest, but what the
    # answer should say is the paper's specific components (dev: fact coverage 0.445 -> 0.54).
    q = "resnet that runs entirely in hyperbolic space?"
    vocab = Vocabulary.build(HYPERBOLIC + ["image model", "residual layers"])
    sims = [0.5, 0.6, 0.45]
    plain = AnswerSettings(specificity_weight=0.0, background_penalty=0.0)
    assert score_sentences(q, HYPERBOLIC, sims, vocab, plain)[0].text == HYPERBOLIC[1]
    scored = score_sentences(q, HYPERBOLIC, sims, vocab, AnswerSettings())
    assert scored[0].text == HYPERBOLIC[2] and scored[0].specificity > 0
    assert scored[-1].text == HYPERBOLIC[0]  # the field's background comes last


def test_content_words_and_stems():
    assert content_stems("Which papers use the transformers for images?") == ["transformer", "image"]
    assert stem("models") == stem("model") and stem("training") == stem("trained") == "train"
    assert VOCAB.idf("nowhere") > VOCAB.idf("memory")  # a word no paper has weighs most
    assert VOCAB.coverage(["memory", "nowhere"], {"memory"}) < 0.5


def test_the_sentence_that_names_what_was_asked_for_is_quoted_first():
    """"What perplexity did ..." asks for perplexity: of two sentences equally close and equally
    full of the question's words, the one naming perplexity wins with focus_weight, not without."""
    sentences = [
        "Large models are costly to serve.",  # the opener: background, never in the race
        "Pruning keeps the throughput of the dense model at 1.8x its speed.",
        "Pruning keeps the perplexity of the dense model at 5.9 on held-out text.",
    ]
    vocab = Vocabulary.build(sentences + ["pruning dense model", "throughput of servers"])
    q = "What perplexity did pruning the dense model keep?"
    without = AnswerSettings(focus_weight=0.0, overlap_weight=0.0, specificity_weight=0.0)
    assert score_sentences(q, sentences, [0.1, 0.62, 0.6], vocab, without)[0].text == sentences[1]
    focused = without.model_copy(update={"focus_weight": 0.6})
    assert score_sentences(q, sentences, [0.1, 0.62, 0.6], vocab, focused)[0].text == sentences[2]
