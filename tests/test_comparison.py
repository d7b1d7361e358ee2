"""What a comparison question compares with (bot/query/comparison.py): built from English
comparison grammar, so these questions are written here, not taken from any question set."""

import pytest

from bot.query.comparison import compared_names, compared_with


@pytest.mark.parametrize(
    "question, compared",
    [
        ("Does the new tokenizer beat SentencePiece on Korean?", "SentencePiece"),
        ("How does the pruned model compare with the dense teacher in latency?", "dense teacher"),
        ("Is the student better than its teacher?", "teacher"),  # a determiner opens it
        ("Is it more than 2x faster than FlashAttention?", "FlashAttention"),  # the amount skipped, not the rest
        ("Does it beat BM25 and outperform SPLADE on MS MARCO?", "BM25 / SPLADE"),  # two comparisons
        ("How does it hold up against GPT-4 on MMLU?", "GPT-4"),
        ("Is it faster than 7B models?", "7B models"),  # a size names models
        ("Is it faster than FlashAttention-2?", "FlashAttention-2"),
        ("What gain over BM25 does the reranker report?", "BM25"),
        ("recall of ColBERT vs. SPLADE - which wins?", "SPLADE"),
        ("What win rate against GPT-4 did it reach?", "GPT-4"),
        ("Did they test it relative to random search, and how?", "random search"),
        ("Did it outperform XGBoost and CatBoost on tabular data?", "XGBoost and CatBoost"),
        ("Compared to Adam, how stable is training?", "Adam"),
        # Words that open a threshold or a threat elsewhere, naming a rival here.
        ("Is it better than adversarial training?", "adversarial training"),
        ("How does it compare against the noise-contrastive estimation baseline?", "noise-contrastive estimation baseline"),
        ("Does it beat distribution shift baselines?", "distribution shift baselines"),
        ("Is it faster than training-free methods?", "training-free methods"),
        ("Is it better than Time-LLM?", "Time-LLM"),
        ("Is it faster than 8-bit Adam?", "8-bit Adam"),
        ("How much better than 3.5 Turbo is it?", "3.5 Turbo"),
        ("Did it beat the baseline by 3 points?", "baseline"),  # a comparison; the baseline names nothing (below)
        ("Is it superior to LoRA in memory?", "LoRA"),
        ("Does it have an edge over DPO?", "DPO"),
        ("Does it improve upon RLHF?", "RLHF"),
        ("Is it as good as GPT-4 at math?", "GPT-4"),
        ("Is it on par with Llama-3?", "Llama-3"),
        ("Is it comparable to full fine-tuning?", "full fine-tuning"),
        ("Is its accuracy higher than that of BERT?", "BERT"),  # "that of" read past
        # A list after a comma: every name in it, up to where the clause goes on.
        ("Is it better than GPT-4, Claude and Gemini?", "GPT-4, Claude and Gemini"),
        ("Is it better than BM25, DPR, and ColBERT on MS MARCO?", "BM25, DPR, ColBERT"),
        ("Is it better than GPT-4, and how much does it cost?", "GPT-4"),
        ("Better than BM25, the paper says?", "BM25"),
        ("Was it better than BERT, I wonder?", "BERT"),  # a clause after the comma, not a name
        ("Is it better than GPT-4, Table 2 says?", "GPT-4"),
        ("LoRA VS full fine-tuning?", "full fine-tuning"),  # capitals: still "versus"
        ("Does it have a clear edge over PPO?", "PPO"),
    ],
)
def test_the_thing_compared_with(question, compared):
    assert compared_with(question) == compared


@pytest.mark.parametrize(
    "question",
    [
        "How does the defence against adversarial patches work?",  # "against" without a comparison
        "Which method uses retrieval rather than fine-tuning?",  # "rather than" is a choice, not a comparison
        "Did more than 90% of the annotators agree?",  # a threshold, not a thing
        "What happens to the loss over time?",
        "Does accuracy improve over time?",
        "Does accuracy improve over training?",
        "Was the filter tested against jailbreak prompts?",  # a threat, not a rival
        "How well does it hold up against adversarial attacks?",
        "Was the latency lower than expected?",
        "Does it exceed 90% accuracy?",  # an amount
        "Does it exceed 20k tokens?",
        "Does it exceed 200ms latency?",
        "Does it exceed 0.9 F1?",
        "Did it take fewer than ten GPUs?",
        "Did it take more than a week?",
        "Does accuracy improve over the course of training?",
        "Did it get better over the years?",
        "How does the model handle long documents?",
        "Does it improve on long documents?",  # "on" a topic, not a rival
        "Does the extension work in VS Code?",  # an editor's name, not "versus"
        "Does it work in vs code?",
        "Does it handle images as well as text?",  # "as well as" is "and"
        "Is the model as good as claimed?",  # what no method is, after "as ... as" too
        "Is it as efficient as possible?",
        "Do they run on the edge over Wi-Fi?",  # edge computing
        "What was the ablation's accuracy?",
    ],
)
def test_no_comparison_asked(question):
    assert compared_with(question) == ""


def test_the_names_leave_out_the_words_that_name_no_particular_thing():
    from index.vocabulary import content_stems

    assert content_stems(compared_names("How much did it beat the strongest baseline?")) == []
    assert content_stems(compared_names("Does it outperform prior methods and SOTA?")) == []
    assert compared_names("Does it beat vanilla LoRA?") == "LoRA"
    assert compared_names("Did it beat the baseline by 3 points?") == ""
    assert compared_names("Is their accuracy higher than BERT's accuracy?") == "BERT"  # not "BERT'"
    assert compared_names("Is their accuracy higher than BERT’s accuracy?") == "BERT"
    assert compared_names("Does it beat the state of the art on GLUE?") == ""  # SOTA, however it is spelt
    # A name, where there is one, is what is looked for: the rest is description an abstract paraphrases.
    assert compared_names("Does it outperform FinBERT embeddings on 10-K filings?") == "FinBERT"
    assert compared_names("Is it better than self-consistency decoding?") == "self-consistency"
    assert compared_names("Compared to Adam, how stable is training?") == "Adam"
    assert compared_names("Does it outperform the dense teacher?") == "dense teacher"


def test_the_comparator_signal_reads_whether_the_first_paper_names_it():
    """A near miss describes a paper that is there and asks how it fares against something its
    abstract never names: the rarest such word the first paper lacks, relative to the rarest
    possible; 0 when it names them all or the question compares with nothing."""
    from bot.answer.refusal import signals
    from bot.types import Hit
    from index.settings import Settings
    from index.types import Paper
    from index.vocabulary import Vocabulary

    paper = Paper(id="p", title="Sparse retrieval for legal search",
                  abstract="We train a sparse retriever for legal search. It beats BM25 by 4 points of nDCG.")  # fmt: skip
    other = Paper(id="q", title="Dense retrieval", abstract="ColBERT reaches high recall on legal search.")
    vocab = Vocabulary.build([f"{p.title} {p.abstract}" for p in (paper, other)] + ["unrelated words"] * 5)
    hits = [Hit(paper=paper, score=1.0), Hit(paper=other, score=0.5)]

    def read(question: str, found=hits) -> float:
        got = signals(None, question, found, [], vocab, Settings(), only=("comparator_missing",))  # type: ignore[arg-type]
        return got["comparator_missing"]

    assert read("How much does the sparse legal retriever beat BM25 by?") == 0.0
    assert read("Does the sparse legal retriever beat SPLADE?") == 1.0  # no paper names it
    assert 0.5 < read("Does the sparse legal retriever beat ColBERT?") < 1.0  # only the second paper does
    assert read("Does the sparse legal retriever beat the strongest baseline?") == 0.0  # names nothing in particular
    assert read("How is the sparse legal retriever trained?") == 0.0
    assert read("Does it beat BM25?", found=[]) == 1.0


def test_the_uncompared_negative_takes_out_the_sentences_that_name_the_thing_compared_with():
    from bot.types import Hit
    from evals.fit.refusal import _without_comparator
    from index.types import Paper
    from index.vocabulary import Vocabulary

    abstract = "We train a sparse retriever against a baseline. It beats the BM25 baseline by 4 points. Code is public."
    hit = Hit(paper=Paper(id="p", title="Sparse legal retrieval", abstract=abstract), score=1.0)
    vocab = Vocabulary.build([abstract, "a baseline and a model", "the baseline wins", "legal text"])
    # Only the sentences with its rarest word: the first sentence's "baseline" names no rival.
    assert _without_comparator(hit, "BM25 baseline", vocab).paper.abstract == (
        "We train a sparse retriever against a baseline. Code is public."
    )
    assert _without_comparator(hit, "ColBERT", vocab) is None  # never named: nothing to take out
    assert _without_comparator(hit, "", vocab) is None  # no comparison asked
    assert _without_comparator(hit, "sparse retrieval", vocab) is None  # named in the title: still named
    assert hit.paper.abstract == abstract  # the retrieved paper itself is untouched
