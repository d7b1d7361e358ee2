"""Is a question English? paperbot reads English abstracts with an English model, so a
question in another language is answered with a note saying so (never a bare refusal).

No model: the script of the letters (CJK, Cyrillic, Arabic, ...) and, for Latin script, each
language's common function words (articles, pronouns, prepositions, conjunctions, auxiliaries,
question words) as the stop-word lists of the `stop-words` package publish them, read on first
use. No word was chosen from paperbot's question sets.

A question is in a Latin-script language when at least ``MIN_WORDS`` of its words are on that
language's list and not on English's (a letter of its alphabet adds one where a word is found),
and that is more than twice its English words not on that list: a word both lists hold ("in",
"per", "was") counts for neither. So an English question with a typo, a German model name or a
Latin loan ("per se", "a priori", "et al.") stays English. Of the languages that pass, the one
whose words and letters are likeliest is named: a word of a list of n words counts log(V/n)
(a short list's word says more), a letter its alphabet lacks ("ã" for Spanish) counts against.

What is cleaned from the lists is their encoding and their noise, never their choice of words:
the English list's one- and two-letter entries are mostly country codes ("de", "es", "la"), so
only English's own short words are kept, and four entries that are no English words ("que",
"com", "www", "vol") go; a list of the whole alphabet (Romanian's) names letters, not words; the
Turkish and Hungarian lists are read back into their own code pages. Acronyms, a plain letter
("R", "e.g.") and the "et al." of a citation are no function words."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Mapping
from functools import cache

MIN_WORDS = 2  # fewer than this is no clear signal (a name, a quoted title)
VOCABULARY = 100_000  # the words a language writes, of which its list's are the frequent ones
LETTER = 10.0  # what a letter a language does not write counts against it, as log-odds

# Latin-script languages told apart by their function words: name -> (code of its stop-word
# list, the accented letters of its alphabet). A letter a language does not write ("ã" for
# Spanish, "ß" for Dutch) tells similar languages apart where their function words are shared.
_LATIN = {
    "French": ("fr", "àâæçéèêëîïôœùûüÿ"), "Spanish": ("es", "áéíñóúü"), "German": ("de", "äöüß"),
    "Italian": ("it", "àèéìíîòóùú"), "Portuguese": ("pt", "áâãàçéêíóôõú"), "Dutch": ("nl", "áéíóúàèëïöü"),
    "Swedish": ("sv", "åäöé"), "Danish": ("da", "æøåé"), "Norwegian": ("nb", "æøåéèêóòô"),
    "Polish": ("pl", "ąćęłńóśźż"), "Czech": ("cs", "áčďéěíňóřšťúůýž"), "Turkish": ("tr", "çğıöşüâîû"),
    "Romanian": ("ro", "ăâîșțşţ"), "Hungarian": ("hu", "áéíóöőúüű"), "Finnish": ("fi", "äöåšž"),
    "Indonesian": ("id", "é"),
}  # fmt: skip
# Other languages the lists cover, named by their script below (glossary.py drops their words).
_OTHER = {"English": "en", "Russian": "ru", "Arabic": "ar", "Hebrew": "he", "Greek": "el", "Hindi": "hi",
          "Chinese": "zh", "Japanese": "ja", "Korean": "ko"}  # fmt: skip

_SCRIPTS = {
    "CJK": "Chinese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean",
    "CYRILLIC": "Russian", "ARABIC": "Arabic", "HEBREW": "Hebrew", "GREEK": "Greek",
    "DEVANAGARI": "Hindi", "THAI": "Thai",
}  # fmt: skip

# English's one- and two-letter words: the list's other short entries are country codes.
_ENGLISH_SHORT = frozenset("a i am an as at be by do go he if in is it me my no of oh ok on or so to up us we".split())
# The English list's entries that are Spanish, web addresses or abbreviations, not English.
_NOT_ENGLISH = frozenset({"que", "com", "www", "vol"})
# Lists written in another code page than their language's: Windows-1254 read as Windows-1252
# (Turkish "nasýl" for "nasıl"), Latin-1 stand-ins for Hungarian's ő and ű.
_CODE_PAGES = {"tr": lambda w: w.encode("cp1252", "ignore").decode("cp1254", "ignore"),
               "hu": lambda w: w.replace("õ", "ő").replace("û", "ű")}  # fmt: skip

_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?:'[^\W\d_]+)*(?!\w)")  # letters, not "4o" of "GPT-4o"
_CITATION = re.compile(r"\bet al\b")  # Latin in English papers, not French "et" and Spanish "al"


def _normal(text: str) -> str:
    """The form words are compared in: composed accents, one apostrophe."""
    return unicodedata.normalize("NFC", text).replace("\u2019", "'")


@cache
def _list(code: str) -> frozenset[str]:
    """The stop-word list ``code`` as words: elisions without their apostrophe ("l'" -> "l")."""
    from stop_words import get_stop_words  # on first use: nothing is read at import

    words = set()
    fix = _CODE_PAGES.get(code, str)
    for entry in get_stop_words(code):
        word = fix(_normal(entry).casefold().strip()).rstrip("'")
        if word and all(c.isalpha() or c == "'" for c in word):
            words.add(word)
    if code == "en":
        words = {w for w in words if (len(w) > 2 or w in _ENGLISH_SHORT) and w not in _NOT_ENGLISH}
    elif sum(len(w) == 1 and w.isascii() for w in words) > 13:  # Romanian's names the alphabet: letters, not words
        words = {w for w in words if len(w) > 1 or not w.isascii()}
    return frozenset(words)


class _Lists(Mapping[str, frozenset[str]]):
    """Language name -> its function words, each list read when first asked for."""

    def __getitem__(self, language: str) -> frozenset[str]:
        code = _LATIN[language][0] if language in _LATIN else _OTHER.get(language)
        if code is None:
            raise KeyError(language)
        return _list(code)

    def __iter__(self) -> Iterator[str]:
        return iter([*_LATIN, *_OTHER])

    def __len__(self) -> int:
        return len(_LATIN) + len(_OTHER)


_FUNCTION_WORDS: Mapping[str, frozenset[str]] = _Lists()


def function_words(language: str) -> frozenset[str]:
    """The function words known for ``language`` (a name, as ``non_english`` gives it), lower
    case; empty for a language without a list."""
    return _FUNCTION_WORDS.get(language, frozenset())


@cache
def _unaccented(code: str) -> bool:
    """Whether list ``code`` is written without accents (Romanian's "si", "fara"): then a
    question's words are matched without theirs."""
    return all(w.isascii() for w in _list(code))


def _folded(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


@cache
def _listed() -> frozenset[str]:
    """The words of all lists, English's too."""
    return frozenset().union(_list("en"), *(_list(code) for code, _ in _LATIN.values()))


def _words(question: str) -> list[str]:
    """The question's words as the lists spell them. An elision is split off the word it
    precedes ("l'apprentissage", "dell'algoritmo", "c'est"); an English contraction or
    possessive ("don't", "model's") is one word. Acronyms ("DR-PO", "NAS") and a plain
    letter in capitals or before a dot ("R", "O(n)", "e.g.") are no function words."""
    text = _CITATION.sub(" ", _normal(question))
    shouting = text.isupper()
    listed = _listed()
    words = []
    for m in _WORD.finditer(text):
        token = m.group()
        if token.isupper() and not shouting and (len(token) > 1 or token.isascii()):
            continue
        if len(token) == 1 and token.isascii() and text[m.end() : m.end() + 1] in (".", "("):
            continue
        token = token.casefold()
        head, _, rest = token.partition("'")
        if rest and token not in listed and len(head) <= len(rest):
            words += [head, rest]
        else:
            words.append(token)
    return words


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


def non_english(question: str) -> str | None:
    """The language a question is in when it clearly is not English, else None."""
    script = _script_language(question)
    if script:
        return script
    words = _words(question)
    english = _list("en")
    letters = {c for w in words for c in w if c.isalpha() and not c.isascii()}
    best, best_score = None, -math.inf
    for language, (code, alphabet) in _LATIN.items():
        vocab = _list(code)
        seen = [_folded(w) for w in words] if _unaccented(code) else words
        hits = sum(w in vocab and w not in english for w in seen)
        against = sum(w in english and w not in vocab for w in seen)
        # its letters back a function word up ("Które ... językowych?"), never stand alone ("Gödel")
        evidence = hits + (hits > 0 and not letters.isdisjoint(alphabet))
        if evidence < MIN_WORDS or evidence <= 2 * against:
            continue
        score = hits * math.log(VOCABULARY / len(vocab)) - LETTER * len(letters - set(alphabet))
        if score > best_score:
            best, best_score = language, score
    return best
