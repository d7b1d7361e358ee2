"""How well the grounding check separates supported from unsupported answer sentences.

Crafted from the bundled corpus (no LLM needed), with a fixed seed:
- good: a sentence of paper A, or its second half (a partial restatement), citing A;
- bad:  a sentence of another paper B that is not in the context, citing A
        (a misattributed claim), and generic ML claims no abstract makes, citing A.
Each trial's context is A plus two other papers. The check should remove bad sentences
(recall) and only bad ones (precision). Prints both for a range of thresholds.

    python -m evals.bench.grounding [--n 300]
"""

from __future__ import annotations

import argparse
import random

from bot.answer.grounding import check_sentences
from index.settings import Settings
from index.ingest import read_inputs
from index.embedding.embedders import load_embedder
from index.papers import merge_papers
from index.text import split_sentences

GENERIC_FALSE = [
    "The method requires no training data at all and works on any modality.",
    "It was the first approach to reach human parity on every benchmark.",
    "The authors prove that transformers cannot learn arithmetic.",
    "This model was trained on 50 trillion tokens of proprietary data.",
    "The approach reduces energy consumption of data centres by 90%.",
    "Results show that recurrent networks outperform all diffusion models on ImageNet.",
    "The paper introduces a new programming language for quantum computers.",
    "They find that larger batch sizes always hurt generalization.",
    "The benchmark consists of 10 million hand-labelled medical images.",
    "The method was deployed in production at a major search engine.",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="trials of each kind")
    args = ap.parse_args()
    settings = Settings()
    embedder = load_embedder(settings.index)
    _, records = read_inputs(settings.index.corpus)
    papers = [p for p in merge_papers([], records) if len(split_sentences(p.abstract)) >= 3]
    rng = random.Random(0)

    cases = []  # (answer sentence, context, is_bad)
    for i in range(args.n):
        a, b, c, d = rng.sample(papers, 4)
        context = [a, c, d]
        sents_a, sents_b = split_sentences(a.abstract), split_sentences(b.abstract)
        s = rng.choice(sents_a)
        if i % 2:
            words = s.split()
            s = " ".join(words[len(words) // 2 :]) if len(words) > 12 else s
        cases.append((f"{s.rstrip('.')} [1].", context, False))
        bad = rng.choice(sents_b) if i % 3 else rng.choice(GENERIC_FALSE)
        cases.append((f"{bad.rstrip('.')} [1].", context, True))

    scores = []
    for sentence, context, is_bad in cases:
        (checked,) = check_sentences(sentence, context, embedder.embed, support_threshold=0.0)
        scores.append((checked.support, is_bad))

    print(f"{len(cases)} crafted sentences ({sum(b for _, b in scores)} unsupported)")
    print("threshold  precision  recall  (of removing unsupported sentences)  good kept")
    for t in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        removed = [bad for sup, bad in scores if sup < t]
        bad_total = sum(bad for _, bad in scores)
        precision = sum(removed) / len(removed) if removed else 1.0
        recall = sum(removed) / bad_total
        good = [sup for sup, bad in scores if not bad]
        kept = sum(1 for sup in good if sup >= t) / len(good)
        mark = "  <- default" if abs(t - settings.llm.support_threshold) < 1e-9 else ""
        print(f"  {t:.2f}      {precision:.3f}     {recall:.3f}                                  {kept:.3f}{mark}")


if __name__ == "__main__":
    main()
