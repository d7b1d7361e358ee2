"""Is a question English? paperbot reads English abstracts with an English model, so a
question in another language is answered with a note saying so (never a bare refusal).

No model and no data files: the script of the letters (CJK, Cyrillic, Arabic, ...) and, for
Latin script, the function words of the common languages of a lab's Slack. Only a clear
signal counts, so an English question with a typo or a German model name stays English."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

# Function words that are frequent in questions and rare as English words or ML terms.
_FUNCTION_WORDS = {
    "English": {"the", "is", "are", "what", "which", "how", "does", "do", "of", "and", "to", "in", "for",
                "that", "with", "there", "any", "paper", "papers", "on", "can", "by", "was", "were", "why"},
    "German": {"der", "die", "das", "und", "ist", "ein", "eine", "einer", "nicht", "mit", "für", "auf", "dem",
               "den", "gibt", "welche", "welcher", "wie", "zu", "von", "auch", "sich", "bei", "über", "wird",
               "werden", "kann", "oder", "dass", "es", "ich", "wer", "warum", "zeigt", "trotzdem"},
    "French": {"le", "la", "les", "des", "est", "une", "et", "pour", "dans", "qui", "que", "quel", "quelle",
               "quels", "quelles", "sur", "avec", "pas", "du", "au", "cette", "sont", "existe", "comment",
               "pourquoi", "travail", "entre"},
    "Spanish": {"el", "los", "las", "es", "una", "y", "para", "en", "que", "qué", "cuál", "cuáles", "con",
                "por", "del", "se", "hay", "cómo", "sobre", "son", "algún", "artículo", "trabajo", "entre"},
    "Italian": {"il", "lo", "gli", "è", "una", "per", "che", "di", "della", "delle", "con", "sono", "c'è",
                "quale", "quali", "come", "lavoro", "nel", "alla", "senza"},
    "Portuguese": {"os", "é", "um", "uma", "para", "que", "do", "da", "com", "em", "tem", "algum", "qual",
                   "como", "não", "num", "artigo", "usando", "vez"},
    "Dutch": {"het", "een", "en", "van", "is", "dat", "voor", "met", "zijn", "welke", "hoe", "niet", "er",
              "waarom", "wat", "bij"},
}  # fmt: skip

_SCRIPTS = {
    "CJK": "Chinese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean",
    "CYRILLIC": "Russian", "ARABIC": "Arabic", "HEBREW": "Hebrew", "GREEK": "Greek",
    "DEVANAGARI": "Hindi", "THAI": "Thai",
}  # fmt: skip


def _script_language(text: str) -> str | None:
    counts: dict[str, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        name = unicodedata.name(ch, "")
        for script, language in _SCRIPTS.items():
            if name.startswith(script):
                counts[language] = counts.get(language, 0) + 1
                break
    if not letters or sum(counts.values()) < 0.3 * letters:
        return None
    if counts.get("Japanese"):  # kana marks Japanese even among kanji
        return "Japanese"
    return max(counts, key=counts.__getitem__)


def function_words(language: str) -> frozenset[str]:
    """The function words known for ``language`` (a name, as ``non_english`` gives it)."""
    return frozenset(_FUNCTION_WORDS.get(language, ()))


def non_english(question: str) -> str | None:
    """The language a question is in when it clearly is not English, else None."""
    script = _script_language(question)
    if script:
        return script
    words = [w.lower() for w in _WORD.findall(question)]
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()}
    english = scores.pop("English")
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= 3 and scores[best] > 2 * english else None
