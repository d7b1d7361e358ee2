"""A question in another language, searched for in English: its technical terms through a
glossary of ML vocabulary (bot/query/glossary.tsv: fr, es, de, it, pt, nl, zh, ja, ko, ru), its
acronyms, model names and figures as asked, its other words dropped when the corpus does not
know them. The model and BM25 read English abstracts; "apprentissage par renforcement" means
nothing to either, "reinforcement learning" does, and "GNN", "DPO" or "ImageNet 128x128" need
no translation. No model and no download: a translation model would be the better path, and
none ships in a package this project can install (README, "Questions in other languages").

Terms are matched longest first (a phrase before its words), whole words for alphabetic
scripts and as substrings for Chinese, Japanese and Korean, which do not separate words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

from bot.query.language import function_words

GLOSSARY = Path(__file__).with_name("glossary.tsv")
CODES = {
    "French": "fr", "Spanish": "es", "German": "de", "Italian": "it", "Portuguese": "pt", "Dutch": "nl",
    "Chinese": "zh", "Japanese": "ja", "Korean": "ko", "Russian": "ru",
}  # fmt: skip
_UNSPACED = {"zh", "ja", "ko"}
_LATIN_SCRIPT = tuple(name for name, code in CODES.items() if code not in (*_UNSPACED, "ru"))
# Tokens kept as asked: Latin letters/digits with the joiners ML names use (GPT-4, 128x128, 6B).
_LATIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-+×/]*[A-Za-z0-9]|[A-Za-z0-9]")
_WORD = re.compile(r"\w+")
# a name or figure with its joiners, when it is a whole word ("GPT-4", not the "r" of "réseau")
_TOKEN = re.compile(r"(?:" + _LATIN.pattern + r")(?!\w)|\w+")


class GlossaryError(ValueError):
    pass


@lru_cache(maxsize=1)
def entries() -> dict[str, dict[str, str]]:
    """language code -> {term: English}. A malformed line is an error at start (``check``),
    never a silent gap."""
    table: dict[str, dict[str, str]] = {}
    for n, line in enumerate(GLOSSARY.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() for f in fields) or fields[0] not in CODES.values():
            raise GlossaryError(f"{GLOSSARY}:{n}: want 'language<TAB>term<TAB>english' with a known language code, got {line!r}")
        code, term, english = (f.strip() for f in fields)
        table.setdefault(code, {})[_key(term)] = english.lower()
    return table


@lru_cache(maxsize=None)
def _pattern(code: str) -> re.Pattern[str] | None:
    # longest first: the regex takes the first alternative that matches, a phrase before its words.
    # Terms are stored case folded, and folding writes "ß" as "ss" ("große" -> "grosse"): the
    # question, matched as it is, may write either.
    terms = [re.escape(t).replace("ss", "(?:ss|ß)") for t in sorted(entries().get(code, {}), key=len, reverse=True)]
    if not terms:
        return None
    if code in _UNSPACED:
        return re.compile("|".join(terms), re.IGNORECASE)
    return re.compile(r"(?<![\w])(?:" + "|".join(terms) + r")(?![\w])", re.IGNORECASE)


def _key(text: str) -> str:
    """The form terms and questions are compared in: composed accents, one apostrophe (phones
    and Slack type ’), case folded."""
    return _same_form(text).casefold()


def _same_form(text: str) -> str:
    return unicodedata.normalize("NFC", text).replace("\u2019", "'")


def matched_terms(question: str, language: str) -> int:
    """How many of the glossary's terms for ``language`` (a name) ``question`` uses."""
    code = CODES.get(language)
    pattern = _pattern(code) if code else None
    return len(pattern.findall(_same_form(question))) if pattern is not None else 0


def glossary_language(question: str, detected: str) -> str:
    """The language whose glossary reads ``question``: the ``detected`` one (bot/query/language.py)
    when its glossary has any of its terms; else, when that is a Latin-script glossary language,
    the Latin-script glossary language of which it uses the most terms (function words alone tell
    Spanish from Portuguese badly: "existe", "para", "a partir de" are both). ``detected`` when
    none is clearly likelier."""
    # A language without a glossary (Swedish, Polish) keeps its name: the note says what it is.
    if detected not in _LATIN_SCRIPT or matched_terms(question, detected):
        return detected
    counts = sorted(((matched_terms(question, n), n) for n in _LATIN_SCRIPT if n != detected), reverse=True)
    if counts and counts[0][0] and (len(counts) == 1 or counts[0][0] > counts[1][0]):
        return counts[0][1]
    return detected


def to_english(
    question: str,
    language: str,
    known: Callable[[str], bool] = lambda _: False,
    cognate: Callable[[str], str | None] = lambda _: None,
) -> str | None:
    """The English search query for ``question`` in ``language`` (a name, as bot.query.language
    gives it), or None when the glossary has nothing for it. ``known``: whether the corpus
    has a (lower-cased) word, which keeps the untranslated words the abstracts share
    (Parameter, Training, Fisher); ``cognate``: the corpus word one or two edits from a
    longer word without its accents ("bayésien" -> "bayesian", "bidirectionnel" ->
    "bidirectional"), or None."""
    code = CODES.get(language)
    pattern = _pattern(code) if code else None
    if pattern is None:
        return None
    english = entries()[code]
    question = _same_form(question)  # matched as it is (lower-casing can change its length)
    cognate = cache(cognate)  # a word asked twice is looked up once
    out: list[str] = []
    found = False
    pos = 0
    for m in pattern.finditer(question):
        out.extend(_kept(question[pos : m.start()], language, known, cognate))
        out.append(english[_key(m.group())])
        found = True
        pos = m.end()
    out.extend(_kept(question[pos:], language, known, cognate))
    return " ".join(out) if found else None


def _kept(
    text: str, language: str, known: Callable[[str], bool], cognate: Callable[[str], str | None]
) -> list[str]:
    """The words of an untranslated stretch worth searching for."""
    if CODES[language] in _UNSPACED:
        return _LATIN.findall(text)
    drop = function_words(language)
    kept = []
    for token in _TOKEN.findall(text):
        if _LATIN.fullmatch(token) and (any(c.isdigit() for c in token) or token[1:] != token[1:].lower()):
            kept.append(token)  # a figure, or an acronym / name as asked (GNN, GPT-4, ImageNet)
            continue
        for word in _WORD.findall(token):
            low = word.lower()
            if low in drop or len(low) <= 2:  # "l'", "d'", "un": never what is searched for
                continue
            plain = _without_accents(low)
            if known(low):
                kept.append(word)  # the corpus's word (Parameter, Training)
            elif known(plain):
                kept.append(plain)  # "récurrent"
            elif COGNATE_MIN <= len(plain) <= COGNATE_MAX and plain.isascii() and (near := cognate(plain)):
                kept.append(near)
    return kept


COGNATE_MIN = 7  # shorter words are too often another word one edit away
COGNATE_MAX = 30  # the speller's candidates grow with the square of a word's length


def _without_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def check() -> None:
    """Read the glossary now: a malformed line fails at start, not on the first question."""
    entries()
