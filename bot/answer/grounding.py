"""Grounding after generation: whatever a model wrote, only sentences that cite a
retrieved abstract *and* are supported by it reach the user.

1. citation numbers outside the context (``[7]`` with five abstracts) are removed;
2. sentences with no valid citation are dropped;
3. each remaining sentence is compared, with the bundled embedding model, to the sentences
   of the abstracts it cites; below ``support_threshold`` it is dropped;
4. surviving citations are renumbered 1..n in order of first use, so the sources list
   matches the markers.
An answer with no surviving sentence becomes the refusal (decided by the caller)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.types import Paper

from bot.types import Citation
from index.text import split_sentences

_MARKERS = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# "claim. [1] Next" -> "claim [1]. Next": keep a trailing marker with its own sentence.
_MARKER_AFTER_STOP = re.compile(r"([.!?])\s*((?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*)+)")

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class CheckedSentence:
    text: str  # without citation markers
    cited: tuple[int, ...]  # valid context numbers, 1-based, as the model wrote them
    invalid: tuple[int, ...]  # numbers that pointed outside the context
    support: float  # best cosine to a sentence of a cited abstract
    evidence: dict[int, str]  # per cited number: that abstract's sentence closest to this one
    kept: bool
    reason: str  # "", "uncited", "unsupported"


def has_markers(raw: str) -> bool:
    return bool(_MARKERS.search(raw))


def _split(raw: str) -> list[tuple[str, list[int]]]:
    text = _MARKER_AFTER_STOP.sub(lambda m: f" {m.group(2).strip()}{m.group(1)} ", raw)
    out = []
    for sentence in split_sentences(text):
        numbers = [int(n) for group in _MARKERS.findall(sentence) for n in re.split(r"[,;]", group)]
        body = " ".join(_MARKERS.sub(" ", sentence).split())
        body = re.sub(r"\s+([.!?,;:])", r"\1", body)
        if body.strip(" .!?"):
            out.append((body, numbers))
    return out


def check_sentences(raw: str, context: list[Paper], embed: Embed, support_threshold: float) -> list[CheckedSentence]:
    """Every sentence of ``raw`` with its verdict. ``context[i]`` is abstract number i+1."""
    parts = _split(raw)
    abstract_sents = [split_sentences(p.abstract) or [p.abstract] for p in context]
    to_embed = [body for body, _ in parts] + [s for sents in abstract_sents for s in sents]
    vecs = embed(to_embed) if parts else np.zeros((0, 1))
    body_vecs, abs_vecs = vecs[: len(parts)], vecs[len(parts) :]
    offsets = np.cumsum([0] + [len(s) for s in abstract_sents])

    checked = []
    for i, (body, numbers) in enumerate(parts):
        valid = tuple(dict.fromkeys(n for n in numbers if 1 <= n <= len(context)))
        invalid = tuple(n for n in numbers if not 1 <= n <= len(context))
        best, evidence = -1.0, {}
        for n in valid:
            sims = abs_vecs[offsets[n - 1] : offsets[n]] @ body_vecs[i]
            j = int(np.argmax(sims))
            evidence[n] = abstract_sents[n - 1][j]
            best = max(best, float(sims[j]))
        if not valid:
            reason = "uncited"
        elif best < support_threshold:
            reason = "unsupported"
        else:
            reason = ""
        checked.append(CheckedSentence(body, valid, invalid, max(best, 0.0), evidence, not reason, reason))
    return checked


def assemble(checked: list[CheckedSentence], context: list[Paper]) -> tuple[str, tuple[Citation, ...]]:
    """Kept sentences with renumbered markers, and the citations they point to."""
    renumber: dict[int, int] = {}
    evidence: dict[int, str] = {}
    sentences = []
    for c in checked:
        if not c.kept:
            continue
        for n in c.cited:
            if n not in renumber:
                renumber[n] = len(renumber) + 1
                evidence[n] = c.evidence[n]
        body, stop = re.match(r"(.*?)([.!?]*)$", c.text, re.DOTALL).groups()
        sentences.append(f"{body} {''.join(f'[{renumber[n]}]' for n in c.cited)}{stop}")
    citations = tuple(
        Citation(n=new, paper=context[old - 1], evidence=evidence[old]) for old, new in renumber.items()
    )
    return " ".join(sentences), citations
