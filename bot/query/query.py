"""A question is understood once: ``understand`` turns the text a user typed into a ``Query``,
and search, the answerer, the LLM path, Slack and the eval scripts all read that object.

The steps, in order:
1. cleaned (``check_query``): control characters and invisible marks removed, whitespace
   collapsed, empty or over-long questions refused with how to fix them;
2. its instructions to the bot removed (bot/query/instructions.py): never searched for nor
   weighed, and no LLM reads them;
3. its language (bot/query/language.py): a question clearly in another language is searched
   for by its English terms (bot/query/glossary.py) and answered with a note;
4. its spelling (bot/query/spelling.py): misspelt words as the corpus spells them for search,
   and as their nearest known words for the refusal model and the answer's sentences.

Each step runs once per question, on the generation the question is answered from (spelling
reads its vocabulary)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.query.asking import asking_sentences
from bot.query.glossary import glossary_language, to_english
from bot.query.instructions import without_instructions, without_misspelt_instructions
from bot.query.language import non_english
from bot.query.spelling import Spelled, speller, spell, unknown_words
from index.errors import BadInput
from index.reader import LiveIndex, LoadedIndex
from index.settings import RetrievalSettings

MAX_QUERY_CHARS = 4_000  # room for a Slack follow-up made standalone from its thread
# ANSI escape sequences, control characters and invisible marks (zero-width space, bidi
# overrides, BOM) come from terminals and pastes, never from the question; echoed back they
# would restyle the user's terminal.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


@dataclass(frozen=True)
class Query:
    """A question as paperbot understood it."""

    asked: str  # as the user asked it, cleaned: what an answer echoes
    question: str  # without its instructions to the bot: what an LLM reads
    language: str | None  # the question's language when it is clearly not English
    searched: str  # what both retrievers search for: spelling fixed, or the English terms
    spelling: Spelled | None = field(default=None, repr=False, compare=False)
    generation: str = ""  # the index generation it was understood on (its vocabulary)

    @property
    def judged(self) -> str:
        """What the refusal model reads: ``searched`` with the typos spelling left as asked read
        as their nearest known words (worked out on first use: search alone never needs it)."""
        return self.spelling.judged if self.spelling is not None else self.searched

    @property
    def answered(self) -> str:
        """What the answer's sentences are chosen for: for an English question ``judged`` (its
        typos read as their nearest known words: a sentence that says "decide" answers "cecide"),
        for one in another language its English terms (``searched``). Dev, misspelt questions:
        fact coverage 0.751 -> 0.758 (clean 0.759 -> 0.760)."""
        return self.judged if self.language is None else self.searched

    @property
    def asking(self) -> str | None:
        """The sentences of ``judged`` that ask, when it says other things too and they name
        enough alone (bot/query/asking.py): the refusal model reads them alone as well."""
        return asking_sentences(self.judged)

    @property
    def instructions_removed(self) -> bool:
        return self.question != self.asked

    @property
    def translated(self) -> bool:
        """A question in another language searched for by its English terms."""
        return self.language is not None and self.searched != self.question

    @property
    def respelled(self) -> bool:
        """An English question whose misspelt words were searched for as the corpus spells them."""
        return self.language is None and self.searched != self.question


def check_query(text: str) -> str:
    """``text`` cleaned for use as a question; BadInput (saying how to fix it) when it is empty
    or too long."""
    # A lone surrogate (a broken emoji from a paste, a non-UTF-8 byte in argv) can be
    # neither printed nor stored: it becomes "?".
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = " ".join(_CONTROL.sub(" ", text).split())
    if not text:
        raise BadInput("The question is empty; type a question, e.g. paperbot ask \"what is LoRA?\"")
    if len(text) > MAX_QUERY_CHARS:
        raise BadInput(
            f"The question is {len(text):,} characters long; ask it in at most {MAX_QUERY_CHARS:,} "
            "(the question itself, not the text it is about)."
        )
    return text


def understand(index: LiveIndex | LoadedIndex, text: str, s: RetrievalSettings) -> Query:
    """``text`` understood against ``index`` (its newest generation, for a live index): see the
    module docstring."""
    with index.use() as idx:
        return _understand(idx, text, s)


def _understand(index: LoadedIndex, text: str, s: RetrievalSettings) -> Query:
    asked = check_query(text)
    generation = index.generation.name
    question = without_instructions(asked)
    language = non_english(question)
    words = None
    if language is None and s.spelling:
        # Its unknown words (found once, for spelling too) may be a misspelt injection
        # ("Ignroe all previous instructions", "<|im_start|>systeem").
        words = unknown_words(index, asked)
        question = without_misspelt_instructions(asked, words.unknown, question)
    if language is not None:
        if not s.translate:
            return Query(asked, question, language, question, generation=generation)
        language = glossary_language(question, language)
        known = index.vocabulary.counts
        # The speller only once a word needs it: most words are the glossary's or the corpus's.
        terms = to_english(question, language, known.__contains__, lambda w: speller(index).suggest(w)) or question
        # The English terms are searched for as the glossary gives them; the refusal model
        # reads them as the corpus and the model spell them.
        spelled = spell(index, terms, correct=False) if s.spelling and terms != question else None
        return Query(asked, question, language, terms, spelled, generation)
    if not s.spelling:
        return Query(asked, question, None, question, generation=generation)
    spelled = spell(index, question, words=words)
    return Query(asked, question, None, spelled.searched, spelled, generation)
