"""Whether a question asks for several papers (bot/query/several.py): English grammar, so the
questions are written here, not taken from any question set."""

import pytest

from bot.query.several import asks_for_several


@pytest.mark.parametrize(
    "question",
    [
        "Which papers prune attention heads without gradients?",
        "What recent works study tokenizer transfer?",
        "Are there any other studies on speculative decoding?",
        "papers on federated learning for hospitals?",
        "Any work that trains retrievers with LLM-written negatives?",
        "ways to speed up diffusion sampling without retraining?",
        "What methods exist for KV-cache compression?",
        "What do we have on graph transformers?",
        "what's out there on protein language models?",
        "What's in the corpus on code infilling?",
        "anything on 3D occupancy prediction in fog?",
        "Reading list on clinical LLM bias, please.",
        "Which approaches use LLM judges, and what does each one report?",
        "Are there papers that prune attention heads?",
        "Show me work on retrieval-augmented generation.",
        "What research exists on tabular foundation models?",
    ],
)
def test_asks_for_several(question):
    assert asks_for_several(question)


@pytest.mark.parametrize(
    "question",
    [
        "Which paper introduced FlashAttention?",
        "Which method did they compare against?",
        "Which works better, LoRA or full fine-tuning?",  # "works" the verb
        "Which benchmarks did the paper report on?",  # plural, but of one paper
        "How does the model handle both text and images?",
        "What accuracy does the pruned model reach?",
        "What is the work about?",
        "Which methods do they use for augmentation?",
        "What approaches do the authors combine?",
        "Which method approaches human performance?",  # "approaches" the verb
        "Which trick works in practice for LoRA?",
        "What studies did the authors cite?",  # one paper's own references
        "What other works does the paper build upon?",
        "What does each layer compute?",  # "each" over parts, not papers
        "What is there to know about the loss in DPO?",
    ],
)
def test_asks_for_one(question):
    assert not asks_for_several(question)


def test_a_question_that_asks_for_several_cites_a_further_paper_on_a_looser_bound():
    from bot.answer.evidence import Evidence
    from bot.answer.extractive import select_cited
    from bot.types import Hit
    from index.settings import AnswerSettings
    from index.types import Paper

    def ev(pid: str, similarity: float, coverage: float) -> Evidence:
        return Evidence(Hit(Paper(id=pid, title="", abstract="x."), 1.0), "x.", similarity, ("x.",), coverage)

    s = AnswerSettings(cite_min_similarity=0.45, cite_relative=0.9, cite_relative_several=0.75, cite_min_coverage=0.3)
    found = [ev("a", 0.8, 0.8), ev("b", 0.65, 0.5), ev("c", 0.7, 0.1)]
    assert [e.hit.paper.id for e in select_cited(found, s)] == ["a"]  # 0.65 < 0.9 x 0.8
    assert [e.hit.paper.id for e in select_cited(found, s, several=True)] == ["a", "b"]  # 0.65 >= 0.75 x 0.8; c lacks the words


def test_a_further_paper_on_the_looser_bound_holds_the_compounds_the_strongest_holds():
    """'Which papers make LLMs multiplication-free?': a paper on context-free grammars for LLMs
    shares 'LLMs' and 'free', not the term; one within the strict bound needs no such check."""
    from bot.answer.evidence import Evidence
    from bot.answer.extractive import select_cited
    from bot.query.several import compounds
    from bot.types import Hit
    from index.settings import AnswerSettings
    from index.types import Paper

    def ev(pid: str, similarity: float, abstract: str) -> Evidence:
        return Evidence(Hit(Paper(id=pid, title="", abstract=abstract), 1.0), abstract, similarity, (abstract,), 0.6)

    question = "Which papers make LLMs multiplication-free?"
    assert compounds(question) == ("multiplication-free",)
    s = AnswerSettings(cite_min_similarity=0.45, cite_relative=0.9, cite_relative_several=0.75, cite_min_coverage=0.3)
    lead = ev("shift", 0.8, "We make pretrained LLMs multiplication-free with shifts and adds.")
    grammar = ev("cfg", 0.65, "Constrained decoding of diffusion LLMs with context-free grammars.")
    spaced = ev("spaced", 0.65, "A multiplication free transformer built from additions.")
    close = ev("close", 0.75, "Efficient LLM inference with low-bit weights.")
    cited = select_cited([lead, grammar, spaced, close], s, True, compounds(question))
    assert [e.hit.paper.id for e in cited] == ["shift", "spaced", "close"]
    # A compound the strongest paper does not hold asks nothing of the others.
    other = compounds("Which papers make LLMs division-free?")
    assert [e.hit.paper.id for e in select_cited([lead, grammar], s, True, other)] == ["shift", "cfg"]


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("Which papers study state-of-the-art training-free methods?", ("state-of-the-art", "training-free")),
        ("What is GPT-4's score on ViT-B/16, BERT-base or LLM-based judges?", ()),  # model names, acronyms
        ("Which papers fine-tune RoBERTa-large, DeBERTa-base or LoRA-based adapters?", ("fine-tune",)),
        ("Which papers make LLMs multiplication\u2011free?", ("multiplication-free",)),  # a non-breaking hyphen
        ("Any work on fine-tuning and Fine-Tuning?", ("fine-tuning",)),
    ],
)
def test_compounds(question, found):
    from bot.query.several import compounds

    assert compounds(question) == found


@pytest.mark.parametrize(
    ("text", "compound", "held"),
    [
        ("Fine-tuning LLMs with RLHF.", "fine-tune", True),  # another inflection of its last word
        ("We fine tune the model.", "fine-tune", True),
        ("A multiplication\u2010free network.", "multiplication-free", True),  # a Unicode hyphen
        ("A multiplicationfree network.", "multiplication-free", True),
        ("Context-free grammars for LLMs.", "multiplication-free", False),
        ("A refined tuning schedule.", "fine-tune", False),  # not at a word's start
    ],
)
def test_holds_compound(text, compound, held):
    from bot.query.several import holds_compound

    assert holds_compound(text, compound) is held


@pytest.mark.parametrize(
    "question, parts",
    [
        ("Two methods speed up decoding: one skips layers, the other drafts without a model. What does each use?", True),
        ("Which two papers study tokenizer transfer, and on which languages?", True),
        ("Both approaches prune attention heads; how much faster is each one?", True),
        ("One work distils a retriever and another a reranker: what do they report, respectively?", True),
        ("Which papers cover (a) KV-cache eviction and (b) KV-cache quantization? What does each paper report?", True),
        # one topic, however many papers it may have: two half-matching papers do not answer it
        ("Which papers apply diffusion models to tabular anomaly detection?", False),
        ("What approaches apply federated learning to LoRA fine-tuning of LLMs?", False),
        ("Any work on federated LoRA?", False),
        ("Which paper introduced FlashAttention?", False),
        ("How was Gemma 2 adapted into encoder-decoder models?", False),  # a version number, not a count
    ],
)
def test_asks_for_parts(question, parts):
    from bot.query.several import asks_for_parts

    assert asks_for_parts(question) is parts
