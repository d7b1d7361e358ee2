"""Reading an input file safely, for every file kind: its text as UTF-8 or a ``BadInput``
naming the file, the line and column of the problem and the fix (UTF-16, NUL bytes, other
encodings, an empty file); and the helpers that number lines and quote text in messages."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from index.errors import BadInput

_NEWLINE = re.compile(r"\r\n|\r|\n")


def read_text_file(path: Path) -> str:
    """The file's text, or a BadInput saying why it cannot be used (and where)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BadInput(f"{path}: cannot be read ({e.strerror}); check its permissions.") from e
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise BadInput(f"{path}: is UTF-16 text; re-save it as UTF-8.")
    raw = raw.removeprefix(codecs.BOM_UTF8)
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, col = _position(raw, nul)
        raise BadInput(
            f"{path}:{line}: NUL byte at column {col}: a binary file (or UTF-16 text), not UTF-8 "
            "text; re-save it as UTF-8 text, or remove the NUL bytes."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _position(raw, e.start)
        raise BadInput(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column {col}; Latin-1 or "
            "Windows-1252 text mixed in?); re-save the file as UTF-8."
        ) from e
    if not text.strip():
        raise BadInput(f"{path}: file is empty; remove it from the command or add abstracts to it.")
    return text


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset whose prefix is valid UTF-8."""
    start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[start:offset].decode("utf-8", "replace")) + 1


def lines(text: str) -> list[str]:
    """The file's lines, numbered as an editor numbers them."""
    # Not str.splitlines: it also splits at U+2028, form feeds and other characters that a
    # JSON string may hold, and numbers lines differently from an editor.
    return _NEWLINE.split(text)


def show(text: str, limit: int = 30) -> str:
    """Text from the file, quoted for a one-line message: escaped and shortened."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
