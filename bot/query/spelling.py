"""Spelling correction against the corpus vocabulary: "difusion modles" searches for
"diffusion models".

A question word is corrected only when (1) the corpus does not contain it, (2) the embedding
model's tokenizer does not know it as one word either (so "lunch" is not "launch", and a valid
English word the corpus lacks stays as asked: it may be exactly why the corpus cannot answer),
and (3) a corpus word is one edit away (two for words of 7 letters or more; for words under 6
letters, one that keeps the first letter: typists rarely miss it, and a short word with another
first letter is usually another word). A corpus word counts when seen twice, or, for words of 7
letters or more, once when the tokenizer knows it whole (a small corpus has many real words once). Among candidates the nearest, then the most frequent,
wins. A word that is a known word with an English affix ("relabeled", "harming") is a word,
unless the correction is its own stem ("sequencs" -> "sequence", "modells" -> "models"; a plural
the corpus has only in the singular becomes it, which both retrievers read alike).
Questions in other languages are left alone.

A misspelt everyday word the corpus has fewer than twice ("humdred", "smalest") has no corpus
word to become; when the model's tokenizer breaks it into 3 or more pieces, as typos are, it
becomes one of the 10,000 commonest whole words of the tokenizer one edit away ("hundred"),
when no corpus word is that near and the two do not merely end differently ("embedder" stays,
not "embedded"); real words the corpus lacks ("logistic", "poisson", "parser") break into two
pieces and stay as asked. The model then reads the word meant rather than pieces of a typo,
which matters since the refusal model reads the question word by word
(bot/answer/late_interaction.py); BM25 is unchanged, the corpus lacks the word either way. The
cognates of questions in other languages (bot/query/glossary.py) are corpus words only.

Candidates are SymSpell's: the corpus words that equal the question word or one of its one- or
two-letter deletions, either as they are or after deleting one of their own letters; for a long
word with no candidate one edit away, also the corpus words of its first letter one or two
letters longer, two edits away ("diusion" is "diffusion", not the rarer "vision"). They are
generated from the question's side (those deletions, and each of them with one letter
inserted, looked up among the corpus words) rather than from a deletion index of the corpus:
nothing but the words' lists by first letter and length (for long words' scan) is built per
generation, and a word takes ~6 ms (~150 ms at 28 letters), where the index took 0.7 s to build
at 100k papers (12 s for 300k distinct words); the scan of a long word filters its bucket by
letters before it measures edit distances (`python -m evals.bench.spelling` times both). The vocabulary it
reads is saved at ingest (index/vocabulary.py).

``spell`` gives both spellings of a question at once: what search searches for, and what the
refusal model reads, where a word the correction leaves as asked becomes its nearest known word
anyway. bot/query/query.py calls it once per question."""

from __future__ import annotations

import os
import re
import threading
import weakref
from dataclasses import dataclass
from functools import cached_property, lru_cache

from index.reader import LoadedIndex

# Whole tokens, digits included: a gene or model name ("RUNX1", "mTORC2") is not a word to fix.
_TOKEN = re.compile(r"[A-Za-z0-9]+")
# English affixes: a word that is a known word once one is removed ("harming", "uncultured",
# "aptamers") is an inflection or derivation, not a typo (on SciFact test claims, correcting
# such words and gene names cost 0.008 nDCG@10: "uncultured" became "cultured").
_SUFFIXES = ("ing", "ed", "es", "s", "ly", "ness", "ment", "er", "ers", "est", "ation", "ations")
_INFLECTIONS = ("ing", "ed", "es", "s")
_PREFIXES = ("un", "non", "re", "de", "dis", "mis", "pre", "anti", "over", "under", "co", "sub", "inter", "trans")
MIN_LENGTH = 4  # shorter words are too often acronyms or another word one edit away
MIN_COUNT = 2  # a corpus word seen once may be a typo itself, unless the model's tokenizer has it whole
MODEL_MIN = 5  # the model's words correct and replace words this long only ("param" is not "para")
MODEL_WORDS = 10_000  # its commonest words only: "param" is not "parma" either
BROKEN = 3  # word pieces of a word the model's words may correct
LONG = 7  # words this long may be two edits from the corpus word (chosen on the dev typo set)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def distance(a: str, b: str, limit: int = 2) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment); ``limit + 1``
    as soon as it is certain to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class Speller:
    """Suggestions from the corpus words ``counts`` (those worth correcting to), then from the
    model's whole-word tokens ``words``, one edit away."""

    def __init__(self, counts: dict[str, int], words: dict[str, int] | None = None) -> None:
        self.counts = {w: c for w, c in counts.items() if c >= MIN_COUNT and w.isalpha() and len(w) >= MIN_LENGTH - 1}
        # For long words, a corpus word seen once is a word to correct to too when the model's
        # tokenizer knows it whole ("usbmissions" -> "submissions" in a small corpus): a typo would
        # not be one of its words. Short ones stay as asked ("adamw" is not "adam").
        whole = words or {}
        self.long_counts = {**self.counts, **{w: c for w, c in counts.items() if w in whole and len(w) >= LONG}}
        # What the refusal model reads a typo as (nearest) may be any corpus word, seen once or
        # more: a question that names a paper's rare word ("mmultivariate") is about that paper,
        # and its typo read as word pieces looks like a term no paper has.
        self.all_counts = {w: c for w, c in counts.items() if w.isalpha() and len(w) >= MIN_LENGTH - 1}
        # Ranked like corpus counts, the more frequent first: a word-piece vocabulary lists
        # its words by frequency, so the lower id is the commoner word.
        common = sorted((i, w) for w, i in (words or {}).items() if w.isalpha())[:MODEL_WORDS]
        self.words = {w: -i for i, w in common if len(w) >= MODEL_MIN}
        self._letters = sorted(set("".join(self.counts)) | set("abcdefghijklmnopqrstuvwxyz"))
        # suggest() (what search corrects) and nearest() (what the refusal model reads) look up
        # the same words: each lookup runs once per word and speller (a generation's).
        # The corpus words by first letter and length, for long words' scan (``_longer``): built
        # here, once per generation under speller()'s lock, not on a question's time.
        self._buckets = {id(known): _by_start(known) for known in (self.long_counts, self.all_counts)}
        self._in_corpus = lru_cache(maxsize=4096)(self._in_corpus)  # type: ignore[method-assign]
        self._in_all = lru_cache(maxsize=4096)(self._in_all)  # type: ignore[method-assign]
        self._in_model = lru_cache(maxsize=4096)(self._in_model)  # type: ignore[method-assign]

    @classmethod
    def build(cls, counts: dict[str, int], words: dict[str, int] | None = None) -> "Speller":
        return cls(counts, words)

    def suggest(self, word: str, broken: bool = False) -> str | None:
        """The corpus word ``word`` most likely misspells; for a word the model reads as
        ``broken`` into 3+ pieces, the model's word one edit away when no corpus word is that
        near; or None."""
        corpus = self._in_corpus(word)
        if corpus and corpus[0] <= 1 or len(word) < MODEL_MIN or not broken:
            return corpus[1] if corpus else None
        model = self._in_model(word)
        if model and _another_ending(word, model[1]):
            model = None  # "embedder" is not "embedded", "logistic" not "logistics"
        return (model or corpus or (0, None))[1]

    def nearest(self, word: str) -> str | None:
        """The corpus word nearest ``word`` (as near as suggest looks: two edits for long
        words; a word suggest corrects to first, else any corpus word, even one seen once),
        else the model's word one edit away, whatever the word pieces or endings (suggest
        prefers a model word one edit away to a corpus word two away, for broken words only);
        None if none is."""
        found = self._in_corpus(word) or self._in_all(word)
        if not found and len(word) >= MODEL_MIN:
            found = self._in_model(word)
        return found[1] if found else None

    def _longer(self, word: str, known: dict[str, int]) -> set[str]:
        """The known words of ``word``'s first letter that are one or two letters longer: a word
        two edits longer than a long typo ("diusion" for "diffusion", "lernung" for "learning",
        a second slip in a word the user had misspelt already) is out of the deletion lookup's
        reach, which meets a known word's one-letter deletions only."""
        buckets = self._buckets[id(known)]
        # Two edits to a word two letters longer are two insertions: every letter of ``word`` is
        # in it; to one a letter longer, an insertion and one more edit: all letters but one are.
        # (Filtered by letters first, as distance() costs ~50 us a word and a bucket of a 300k-word
        # vocabulary holds thousands.)
        letters = set(word)
        longer = [c for c in buckets.get((word[0], len(word) + 2), ()) if letters <= set(c)]
        longer += [c for c in buckets.get((word[0], len(word) + 1), ()) if len(letters - set(c)) <= 1]
        return set(longer)

    def _in_corpus(self, word: str) -> tuple[int, str] | None:
        """The corpus word nearest ``word``: one edit away, two for words of LONG letters."""
        if len(word) < LONG:
            return self._nearest(word, self.counts, 1)
        return self._nearest(word, self.long_counts, 2)

    def _in_all(self, word: str) -> tuple[int, str] | None:
        """Any corpus word nearest ``word``, even one seen once: one edit away, two for words of
        LONG letters."""
        return self._nearest(word, self.all_counts, 2 if len(word) >= LONG else 1)

    def _in_model(self, word: str) -> tuple[int, str] | None:
        """The model's word nearest ``word``, one edit away."""
        return self._nearest(word, self.words, 1)

    def _nearest(self, word: str, known: dict[str, int], limit: int) -> tuple[int, str] | None:
        """(edits, the known word) nearest to ``word`` within ``limit`` edits, the most
        frequent of equals; None if none is."""
        variants = _deletions(word) | {word}
        if limit == 2:  # two letters dropped from the question's word ("diffussionn" for "diffusion")
            variants |= {v2 for v in _deletions(word) for v2 in _deletions(v)}
        # A known word is a candidate when it is a variant, or a variant is one of its own
        # one-letter deletions: that is, it is a variant with one letter inserted.
        inserted = {v[:i] + ch + v[i:] for v in variants for i in range(len(v) + 1) for ch in self._letters}
        edits = {c: distance(word, c, limit) for c in variants | inserted if c in known}
        if limit == 2 and min(edits.values(), default=limit + 1) > 1:  # scanned only when none is one edit away
            edits |= {c: distance(word, c, limit) for c in self._longer(word, known) if c not in edits}
        if len(word) < 6:  # a short word starts as typed (_same_start): "init" is not "unit"
            edits = {c: d for c, d in edits.items() if _same_start(word, c)}
        # Of equally near words, the one a slip of the finger makes (a letter dropped, doubled,
        # swapped, or a key's neighbour struck) before one that needs a far key, then the commoner:
        # "vieo" is "video", not "view"; "troes" is "tries", not "trees".
        ranked = sorted((d, _far_keys(word, c), -known[c], c) for c, d in edits.items())
        return (ranked[0][0], ranked[0][3]) if ranked and ranked[0][0] <= limit else None


def _by_start(known: dict[str, int]) -> dict[tuple[str, int], list[str]]:
    """``known``'s words by first letter and length."""
    out: dict[tuple[str, int], list[str]] = {}
    for w in known:
        out.setdefault((w[0], len(w)), []).append(w)
    return out


_cache: "weakref.WeakKeyDictionary[LoadedIndex, Speller]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def speller(index: LoadedIndex) -> Speller:
    """The speller of one index generation, built on first use and kept with it."""
    vocab = index.vocabulary
    with _lock:
        sp = _cache.get(index)
        if sp is None:
            sp = _cache[index] = Speller.build(vocab.counts, index.embedder.words())
        return sp


class Spelled:
    """A question's two spellings: what search searches for (``searched``: its misspelt words as
    the corpus spells them, lower-cased, as both retrievers read them), and what the refusal
    model reads (``judged``: ``searched`` with the words it leaves as asked read as their
    nearest known word), worked out on first use: search alone never needs it."""

    def __init__(
        self, searched: str, words: "Unknown | None" = None, sp: Speller | None = None, fixed: frozenset[str] = frozenset()
    ) -> None:
        self.searched = searched
        self._words, self._speller, self._fixed = words, sp, fixed

    @cached_property
    def judged(self) -> str:
        words, sp = self._words, self._speller
        if words is None or sp is None:
            return self.searched
        nearest = {w: sp.nearest(w) for w in words.unknown if w not in self._fixed}
        return _replaced(self.searched, {w: f for w, f in nearest.items() if f and (f not in words.forms[w] or _same_word(w, f))})


def spell(index: LoadedIndex, text: str, correct: bool = True, words: "Unknown | None" = None) -> Spelled:
    """``text`` with its misspelt words corrected (``searched``) and, for the refusal model,
    with each word neither the corpus nor the model knows read as the nearest word one of them
    knows (``judged``), even where the correction leaves it as asked (it is ambiguous there:
    "athor" may be a name, "brokken" another word). Read as word pieces, a typo looks like a
    term no paper has, which is what makes a question unanswerable. A real word the corpus
    lacks is read as its neighbour too ("tiling" as "timing", "poisson" as "poison"): the paper
    found rarely has that either, so the word still counts as missing (dropping the words
    instead refused fewer unanswerable typo questions). Never a word's own base ("relabeled"
    is not read as "labeled": the prefix may be the point, as in "uncultured"), unless it is its
    inflection's stem ("sequencs"). A word no known word is near ("zyxqwv") stays, and so do
    names with capitals or digits, which spelling never reads. With ``correct`` False (a
    translated question's English terms) ``searched`` is ``text`` as it is.

    The unknown words are found once: those the correction fixes are corpus words afterwards,
    so the words ``judged`` reads are the ones it left."""
    words = unknown_words(index, text) if words is None else words  # given: found for a text holding ``text``'s words
    if not words.unknown:
        return Spelled(text)
    sp = speller(index)
    fixes: dict[str, str | None] = {}
    if correct:
        # Typos break a word into odd pieces ("humdred": hum ##dre ##d); a real word the model
        # lacks rarely breaks as much ("logistic": log ##istic).
        fixes = {w: sp.suggest(w, broken=words.pieces[w] >= BROKEN) for w in words.unknown}
        # A known word with an affix is a word ("relabeled" is not "labeled"), unless the fix is
        # its own stem as the corpus spells it ("sequencs" -> "sequence"; see _same_word).
        fixes = {w: f for w, f in fixes.items() if f and (not words.forms[w] & words.single or _same_word(w, f))}
    return Spelled(_replaced(text, fixes), words, sp, frozenset(fixes))


@dataclass(frozen=True)
class Unknown:
    unknown: list[str]  # lower-cased; not a corpus word nor one of the model's single tokens
    # (a word whose base form is one stays here: see forms and single)
    forms: dict[str, set[str]]  # each unknown word's base forms (_base_forms)
    single: set[str]  # the words and forms the corpus or the model knows
    pieces: dict[str, int]  # how many word pieces the model reads each word and form as


def unknown_words(idx: LoadedIndex, question: str) -> Unknown:
    # The speller only once a word is unknown: most questions have none, and a cold
    # `paperbot ask` should not pay for the tokenizer or the speller's filtered word list.
    counts = idx.vocabulary.counts
    unknown = sorted({w.lower() for w in _TOKEN.findall(question) if _checkable(w)} - counts.keys())
    if not unknown:
        return Unknown([], {}, set(), {})
    # One tokenizer call: a word the model reads as a single token is an English word,
    # and so is a word that is one once an affix is removed.
    forms = {w: _base_forms(w) for w in unknown}
    flat = sorted({f for fs in forms.values() for f in fs} | set(unknown))
    pieces = dict(zip(flat, idx.embedder.count_tokens(flat)))
    single = {f for f, n in pieces.items() if n == 1} | (set(flat) & counts.keys())
    return Unknown([w for w in unknown if w not in single], forms, single, pieces)


def _replaced(question: str, fixes: dict[str, str | None]) -> str:
    """``question`` with each word in ``fixes`` (lower-cased) replaced, unless by None."""
    fixes = {w: f for w, f in fixes.items() if f}
    if not fixes:
        return question
    return _TOKEN.sub(lambda m: fixes.get(m.group().lower(), m.group()) if _checkable(m.group()) else m.group(), question)


# The keyboard's letter rows (QWERTY): a key's neighbours are the keys a finger slips to.
KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def key_neighbours(ch: str) -> str:
    """The letters next to ``ch`` on the keyboard: left, right, above and below ("" if not a letter)."""
    for r, row in enumerate(KEY_ROWS):
        i = row.find(ch.lower())
        if i >= 0:
            near = row[max(0, i - 1) : i] + row[i + 1 : i + 2]
            return near + "".join(KEY_ROWS[rr][i] for rr in (r - 1, r + 1) if 0 <= rr < 3 and i < len(KEY_ROWS[rr]))
    return ""


def _far_keys(word: str, known: str) -> int:
    """How many of the letters ``word`` has in place of ``known``'s (words of one length; 0 for
    others) are not a neighbouring key of the letter meant, two swapped letters aside: the
    substitutions a noisy-channel typing model finds unlikely (Kernighan, Church and Gale 1990)."""
    if len(word) != len(known):
        return 0
    far, i = 0, 0
    while i < len(word):
        if word[i] != known[i]:
            if i + 1 < len(word) and word[i] == known[i + 1] and word[i + 1] == known[i]:
                i += 2  # swapped
                continue
            far += word[i] not in key_neighbours(known[i])
        i += 1
    return far


def _same_start(word: str, known: str) -> bool:
    """Whether ``known`` starts as ``word`` could have been typed: the same first letter, the
    first two letters swapped ("omdel"), the first letter dropped ("tate", "wift"), or, in a word
    of five letters, a first key that slipped to its neighbour ("xmall", "shich"); a four-letter
    word with another first letter is another word ("init" and "unit" are a key apart)."""
    slipped = len(word) > MIN_LENGTH and known[0] in key_neighbours(word[0])
    return known[0] == word[0] or known[:2] == word[1::-1] or known[1:] == word or slipped


def _another_ending(word: str, other: str) -> bool:
    """Whether two words differ only in their last two letters: an inflection or another
    derivation of one stem, not a typo of it."""
    return len(os.path.commonprefix([word, other])) >= min(len(word), len(other)) - 2


def _checkable(token: str) -> bool:
    """A word spelling may correct: letters only, long enough, no capital after the first
    letter (acronyms, gene and model names: "CHEK", "iTregs")."""
    return len(token) >= MIN_LENGTH and token.isalpha() and token[1:].islower()


def _base_forms(word: str) -> set[str]:
    """``word`` without one English suffix (with a dropped "e" restored) or prefix."""
    return _suffix_forms(word) | {word[len(p) :] for p in _PREFIXES if word.startswith(p) and len(word) - len(p) >= 4}


def _suffix_forms(word: str, suffixes: tuple[str, ...] = _SUFFIXES) -> set[str]:
    """``word`` without one of ``suffixes`` (with a dropped "e" restored)."""
    forms = set()
    for suffix in suffixes:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            forms |= {stem, stem + "e"}
            if len(stem) > 3 and stem[-1] == stem[-2]:  # "planning" -> "plan"
                forms.add(stem[:-1])
    return forms


def _same_word(word: str, fix: str) -> bool:
    """Whether ``fix`` is ``word`` with an inflection removed, or for a word ending in -s that
    stem's plural: "sequencs" -> "sequence", "outputss" -> "outputs", "modells" -> "models"
    (a plural the corpus has only in the singular becomes it: "antigens" -> "antigen"); never
    another word ("filed" -> "filled", "relabeled" -> "labeled") nor another inflection
    ("finetuned" -> "finetunes")."""
    stems = _suffix_forms(word, _INFLECTIONS)
    return fix in stems or word.endswith("s") and fix in {f + ending for f in stems for ending in ("s", "es")}
