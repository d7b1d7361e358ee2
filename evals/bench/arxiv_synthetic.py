"""A day of arXiv, made up: deterministic, realistic-looking ML records for the loopback
stand-in (evals/bench/arxiv_standin.py), for the feed bench and tests."""

from __future__ import annotations

import random
from datetime import date, timedelta

from evals.bench.arxiv_standin import StandinRecord

FIRST = ["Wei", "Ana", "Jonas", "Priya", "Mateo", "Yuki", "Fatima", "Lukas", "Chen", "Olga", "Samuel", "Aisha",
         "Jos\\'e", "Fran\\c{c}ois", "Bj\\\"orn", "Zo\\\"e", "Ra\\'ul", "Ren\\'e", "J\\\"urgen", "C.", "M. A."]
LAST = ["Zhang", "Kumar", "Nguyen", "Smith", "Rossi", "Tanaka", "Okafor", "Bal\\'azs", "M\\\"uller", "Garc\\'ia",
        "Ko\\c{c}", "Dvo\\v{r}\\'ak", "Sch\\\"olkopf", "\\\"Ozt\\\"urk", "Nov\\'ak", "Fern\\'andez", "Ivanova", "Park",
        "Silva", "van der Berg", "Haddad", "Lindqvist", "Moreau", "Kowalski"]  # fmt: skip
PARTS = {
    "adj": ["efficient", "robust", "scalable", "sparse", "calibrated", "self-supervised", "multilingual",
            "compositional", "data-efficient", "faithful", "uncertainty-aware", "low-rank", "hierarchical"],
    "technique": ["contrastive learning", "retrieval augmentation", "mixture-of-experts routing", "diffusion",
                  "knowledge distillation", "preference optimization", "graph attention", "state-space modeling",
                  "test-time adaptation", "curriculum learning", "token pruning", "dense retrieval"],
    "task": ["question answering", "machine translation", "image segmentation", "code generation",
             "long-document summarization", "few-shot classification", "visual grounding", "speech recognition",
             "tabular prediction", "scientific claim verification", "open-domain retrieval", "video captioning"],
    "object": ["language models", "vision transformers", "graph neural networks", "dense retrievers",
               "reward models", "speech encoders", "multimodal agents", "embedding models"],
    "challenge": ["distribution shift", "noisy labels", "long contexts", "limited supervision",
                  "spurious correlations", "quadratic attention cost", "hallucinated content", "class imbalance"],
    "metric": ["accuracy", "exact match", "nDCG@10", "BLEU", "mean IoU", "F1", "calibration error", "recall@100"],
    "domain": ["biomedicine", "law", "finance", "education", "remote sensing", "robotics", "chemistry", "news"],
}  # fmt: skip
TITLES = ["{Adj} {Technique} for {Task}", "{Name}: {Adj} {Technique} for {Task} under {Challenge}",
          "On the {Challenge} of {Object}", "Towards {Adj} {Task} via {Technique}",
          "{Name}: Scaling {Object} to {Challenge} in $\\mathcal{{O}}(n)$ Time",
          "When Do {Object} Fail? A Study of {Challenge} in {Task}", "Revisiting {Technique} for {Adj} {Object}"]
INTROS = ["{task} is a central problem in machine learning, yet existing {object} struggle with {challenge}.",
          "Recent advances in {technique} have enabled strong results on {task}, but their behaviour under "
          "{challenge} remains poorly understood."]
BODY = ["In this paper, we propose {Name}, {a_adj} approach to {task} that combines {technique} with {technique2}.",
        "Unlike prior work, our method requires no additional annotation and runs in $\\mathcal{{O}}(n \\log n)$ "
        "time in the number of tokens.",
        "We evaluate {Name} on {k} benchmarks spanning {domain}, {domain2} and general-domain text.",
        "Experiments show that it improves {metric} by {x}% over strong baselines while using {y}$\\times$ less "
        "compute.", "We further provide a theoretical analysis showing that the estimator is consistent when the "
        "number of samples grows faster than $d^2$.", "Ablation studies reveal that {technique} accounts for most "
        "of the gain, while {technique2} mainly improves stability.", "To study {challenge} in a controlled "
        "setting, we also introduce a benchmark of {n} examples annotated by domain experts.",
        "We show that a simple {technique} baseline, when carefully tuned, matches {k} more complex methods.",
        "Our analysis indicates that {object} trained with {technique} are markedly less sensitive to {challenge}.",
        "Human evaluation confirms these findings, with annotators preferring our outputs in {x}% of cases."]
NAME_HEADS = ["Flash", "Retro", "Sparse", "Tiny", "Meta", "Hyper", "Graph", "Lo"]
NAME_TAILS = ["Former", "RAG", "Mix", "Net", "Align", "Route", "Lens", "Prompt"]
OUTROS = ["Our results suggest that {adj} {technique} is a practical default for {task}.",
          "Code and data are available at https://github.com/paperbot-bench/{slug}."]


def synthetic_records(
    n: int, day: str, seed: int = 0, categories: tuple[str, ...] = ("cs.CL", "cs.LG", "cs.CV", "cs.AI", "stat.ML")
) -> list[StandinRecord]:
    """``n`` deterministic, realistic-looking ML records announced on ``day``: 150-250 word abstracts with some
    LaTeX, LaTeX accents in author names, ~20% cross-listed, ~10% with 2+ versions, ~1% deleted. Ids are
    ``YYMM.NNNNN`` numbered from the day of the month, so different days give different ids (up to 2,000 a day)."""
    if n > 2000:
        raise ValueError("synthetic_records numbers at most 2,000 records a day")
    rng = random.Random(f"{seed}:{day}")
    today = date.fromisoformat(day)
    extra = ("math.OC", "eess.AS", "q-bio.NC", "cs.IR", "cs.RO")  # cross-lists beyond the asked categories
    records = []
    for i in range(n):
        fill = {k: rng.choice(v) for k, v in PARTS.items()}
        fill["technique2"] = rng.choice([t for t in PARTS["technique"] if t != fill["technique"]])
        fill["domain2"] = rng.choice([d for d in PARTS["domain"] if d != fill["domain"]])
        fill |= {k.capitalize(): v.title() for k, v in fill.items()}  # {Task} in titles, {task} in sentences
        fill["a_adj"] = ("an " if fill["adj"][0] in "aeiou" else "a ") + fill["adj"]
        fill |= {"k": rng.randint(3, 12), "x": rng.randint(2, 19), "y": rng.randint(2, 8)}
        fill["n"] = rng.randint(5, 90) * 100
        fill["Name"] = rng.choice(NAME_HEADS) + rng.choice(NAME_TAILS)
        fill["slug"] = fill["Name"].lower()
        sentences = [rng.choice(INTROS), BODY[0]] + rng.sample(BODY[1:], len(BODY) - 1)
        words, text = 0, []
        for s in sentences:
            s = s.format(**fill)
            if words >= 150 and words + len(s.split()) > 230:
                break
            text.append(s[0].upper() + s[1:])
            words += len(s.split())
        text.append(rng.choice(OUTROS).format(**fill))
        primary = rng.choice(categories)
        cats = [primary]
        if rng.random() < 0.2:
            pool = [c for c in categories + extra if c != primary]
            cats += rng.sample(pool, rng.choice((1, 1, 2)))
        dates = [today]
        if rng.random() < 0.1:
            first = today - timedelta(days=rng.randint(20, 400))
            dates = [first] + sorted({first + timedelta(days=rng.randint(1, (today - first).days - 1))
                                      for _ in range(rng.randint(0, 1))}) + [today]  # fmt: skip
        number = 10000 + (today.day - 1) * 2000 + i  # unique per (day, i); older papers get an older YYMM
        authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 8))]
        comments = f"{rng.randint(8, 40)} pages, {rng.randint(1, 12)} figures"
        records.append(StandinRecord(
            id=f"{dates[0]:%y%m}.{number:05d}", title=rng.choice(TITLES).format(**fill), abstract=" ".join(text),
            authors=authors, categories=cats, versions=[d.isoformat() for d in dates], datestamp=day,
            deleted=rng.random() < 0.01, comments=comments))  # fmt: skip
    return records
