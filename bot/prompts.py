"""Prompt files from prompts/: loaded and validated at start, filled per question.

The files ship inside the ``prompts`` package (package data), so an installed paperbot
finds them wherever it runs from."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from index.errors import ConfigError
from index.text import content_hash

PROMPTS_PACKAGE = "prompts"

# The placeholders each prompt may use: the code fills exactly these.
ALLOWED = {"answer": {"context", "question", "max_sentences"}}
# The answer prompt's two ways for a model to say the abstracts do not answer: nothing in them
# bears on the question (a refusal), or they bear on it without stating the answer (a
# tentative answer: what the closest abstracts do say, with a caveat). A prompt that does not
# offer both leaves the model no way to give its verdict, so it must name them.
NO_EVIDENCE = "NO_EVIDENCE"
NOT_STATED = "NOT_STATED"
VERDICTS = {"answer": (NO_EVIDENCE, NOT_STATED)}
# A reply that opens with a verdict, as models write it: "NOT_STATED:", "**Not stated.**", "NO EVIDENCE".
_VERDICT = re.compile(r"^\W*(no[_ ]evidence|not[_ ]stated)\b\W*", re.IGNORECASE)


def verdict(reply: str) -> tuple[str | None, str]:
    """(NO_EVIDENCE or NOT_STATED when the reply opens with it, else None; the reply after it)."""
    m = _VERDICT.match(reply)
    if m is None:
        return None, reply
    return (NO_EVIDENCE if m.group(1).lower().endswith("evidence") else NOT_STATED), reply[m.end() :]


@dataclass(frozen=True)
class Prompt:
    name: str
    template: str
    version: str

    def render(self, **values: object) -> str:
        return self.template.format(**values)


def load_prompt(name: str, folder: Traversable | None = None) -> Prompt:
    """The prompt ``name``.txt from ``folder`` (default: the installed ``prompts`` package),
    checked for placeholders the code does not fill."""
    path = (files(PROMPTS_PACKAGE) if folder is None else folder) / f"{name}.txt"
    if not path.is_file():
        raise ConfigError(
            f"Prompt file {path} is missing; restore it from the repository (prompts/), "
            "or reinstall paperbot."
        )
    template = path.read_text(encoding="utf-8")
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as e:
        raise ConfigError(f"{path}: {e}; write literal braces as {{{{ and }}}}.") from e
    unknown = fields - ALLOWED[name]
    if unknown:
        raise ConfigError(
            f"{path}: unknown placeholder(s) {', '.join('{' + u + '}' for u in sorted(unknown))}; "
            f"this prompt can use {', '.join('{' + a + '}' for a in sorted(ALLOWED[name]))}."
        )
    missing = {"context", "question"} - fields if name == "answer" else set()
    if missing:
        raise ConfigError(f"{path}: must contain {', '.join('{' + m + '}' for m in sorted(missing))}.")
    unnamed = [v for v in VERDICTS.get(name, ()) if v not in template]
    if unnamed:
        raise ConfigError(
            f"{path}: must tell the model when to reply {' or '.join(unnamed)} (see prompts/README.md); "
            "without it the model cannot say that the abstracts do not answer."
        )
    return Prompt(name=name, template=template, version=content_hash(template)[:12])
