"""The held-out question sets, and the guard that keeps every fit and tuning script off them.

The test questions (evals/questions/bundled_test.jsonl, and their misspelt copies) are run
once, at the end of a piece of work, to report; nothing is chosen on them. The next round's
test set (evals/questions/sealed/next_test.jsonl) is held out too, and never run before then.
The guard reads what a script is about to fit on, not its name: a file whose bytes are a
held-out file's, or that holds any held-out question (however it is named, copied or renamed),
is refused."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from evals.questions import BUNDLED_TEST, BUNDLED_TEST_TYPOS, SEALED_TEST, Question, load_questions

HELD_OUT = (BUNDLED_TEST, BUNDLED_TEST_TYPOS, SEALED_TEST)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def question_hash(text: str) -> str:
    """A question's words, case, spacing and punctuation aside."""
    return hashlib.sha256(" ".join(re.findall(r"\w+", text.casefold())).encode("utf-8")).hexdigest()


@cache
def _held_out() -> tuple[frozenset[str], frozenset[str]]:
    """(the held-out files' hashes, their questions' hashes)."""
    files, questions = set(), set()
    for path in HELD_OUT:
        if not path.is_file():
            continue
        files.add(file_hash(path))
        questions.update(question_hash(q.question) for q in load_questions(path))
    return frozenset(files), frozenset(questions)


def held_out_in(source: Path, questions: Sequence[Question]) -> list[str]:
    """The ids of ``questions`` (read from ``source``) that are held out: all of them when the
    file is a held-out file byte for byte."""
    files, held = _held_out()
    if source.is_file() and file_hash(source) in files:
        return [q.id for q in questions]
    return [q.id for q in questions if question_hash(q.question) in held]


def refuse_held_out(source: Path, questions: Sequence[Question]) -> None:
    """Stops a fit or tuning script (SystemExit, saying what to do) that is about to read held-out
    questions."""
    held = held_out_in(source, questions)
    if held:
        shown = ", ".join(held[:5]) + ("..." if len(held) > 5 else "")
        raise SystemExit(
            f"{source}: {len(held)} of its questions are held-out test questions ({shown}); fit and tune on "
            "the dev questions (--dataset bundled-dev). The test set is run once, to report, never to choose."
        )
