"""The one loader of fitted models, and the shape of their files.

``bot/fitted/<name>.json`` holds one model, written by ``python -m evals.fit.<name>``::

    {"kind": "<name>",
     "params": {...},                              # the model's own parameters (its class reads them)
     "provenance": {
       "command": "python -m evals.fit.<name> ...",  # the command line that wrote the file
       "data": {"<file>": "sha256:<hex>", ...},     # every data file the fit read
       "commit": "<git sha>" | "unknown",           # the code that fitted it
       "dirty": true | false | null,                # uncommitted changes in that tree (null: unknown)
       "fitted_at": "<ISO 8601, UTC>",
       "metrics": {...} | null,                     # what the fit measured (null: not measured)
       "note": "..." | null}}                       # anything the fields above cannot say

The files are package data, read through importlib.resources so that an installed wheel finds
them. No file is a model never fitted (``load`` gives None and the caller falls back); a file of
another shape is a ConfigError that names it and the command that writes it again."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from index.errors import ConfigError

if TYPE_CHECKING:
    from index.settings import Settings

# What writes each model's file again (the fix for a malformed one).
FITTERS = {
    "refusal": "python -m evals.fit.refusal",
    "fusion": "python -m evals.fit.fusion <BEIR SciFact folder, e.g. ../shared/benchmarks/scifact>",
}

T = TypeVar("T")


@dataclass(frozen=True)
class Provenance:
    """How a model was fitted: enough to tell whether it is stale and to fit it again."""

    command: str
    data: dict[str, str]  # data file -> "sha256:<hex>"
    commit: str
    dirty: bool | None
    fitted_at: str
    metrics: dict[str, Any] | None
    note: str | None = None


# Each provenance key and the JSON types it takes (None: null).
_PROVENANCE_TYPES: dict[str, tuple[type, ...]] = {
    "command": (str,), "data": (dict,), "commit": (str,), "dirty": (bool, type(None)),
    "fitted_at": (str,), "metrics": (dict, type(None)), "note": (str, type(None)),
}  # fmt: skip
_OPTIONAL = {"note"}


@dataclass(frozen=True)
class FittedFile:
    """One model's file: its parameters and their provenance."""

    kind: str
    params: dict[str, Any]
    provenance: Provenance
    source: str  # the file it was read from (or is written to), for messages

    def build(self, make: Callable[[dict[str, Any]], T]) -> T:
        """The model ``make`` builds from the params; a parameter it misses or does not know
        (its KeyError, TypeError or ValueError) is the file's fault: a ConfigError."""
        try:
            return make(self.params)
        except (KeyError, TypeError, ValueError) as e:
            raise malformed(self.source, self.kind, f"params: {e}") from e


def malformed(source: str, name: str, why: str) -> ConfigError:
    """The error for a file not of the shape above: which file, what is wrong, and the fix."""
    fit = FITTERS.get(name, f"python -m evals.fit.{name}")
    return ConfigError(f"{source}: not a fitted {name} model ({why}). Fit it again: {fit}")


def load(name: str, folder: Traversable | None = None) -> FittedFile | None:
    """The model ``name`` of ``folder`` (default: this package's files), or None when it has no
    file. Raises ConfigError when the file is not of the shape above."""
    if folder is None:
        return _packaged(name)
    return _read(name, folder)


@cache
def _packaged(name: str) -> FittedFile | None:
    # Read once per process: search asks for the fusion model at every query.
    return _read(name, resources.files(__package__))


def _read(name: str, folder: Traversable) -> FittedFile | None:
    file = folder / f"{name}.json"
    if not file.is_file():
        return None
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise malformed(str(file), name, f"not JSON: {e}") from e
    return parse(raw, name, str(file))


def parse(raw: Any, name: str, source: str) -> FittedFile:
    """The checked contents of a model's file (``raw``: its parsed JSON)."""

    def bad(why: str) -> ConfigError:
        return malformed(source, name, why)

    if not isinstance(raw, dict) or set(raw) != {"kind", "params", "provenance"}:
        keys = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise bad(f"expected an object with kind, params and provenance, found {keys}")
    if raw["kind"] != name:
        raise bad(f"kind is {raw['kind']!r}, not {name!r}")
    if not isinstance(raw["params"], dict):
        raise bad("params is not an object")
    prov = raw["provenance"]
    if not isinstance(prov, dict):
        raise bad("provenance is not an object")
    missing = set(_PROVENANCE_TYPES) - _OPTIONAL - set(prov)
    unknown = set(prov) - set(_PROVENANCE_TYPES)
    if missing or unknown:
        raise bad(f"provenance misses {sorted(missing)}, has unknown {sorted(unknown)}")
    for key, value in prov.items():
        if not isinstance(value, _PROVENANCE_TYPES[key]):
            raise bad(f"provenance.{key} is {type(value).__name__}")
    for file, digest in prov["data"].items():
        if not (isinstance(digest, str) and digest.startswith("sha256:")):
            raise bad(f"provenance.data[{file!r}] is not 'sha256:<hex>'")
    return FittedFile(name, raw["params"], Provenance(**prov), source)


def check_features(names: Iterable[str], known: Sequence[str]) -> None:
    """ValueError when ``names`` (a model's features, or the ones asked of a feature function)
    has one not in ``known``."""
    unknown = set(names) - set(known)
    if unknown:
        raise ValueError(f"unknown features {sorted(unknown)}; the features are {', '.join(known)}")


def dumps(fitted: FittedFile) -> str:
    """The file's text: what ``load`` reads back."""
    body = {"kind": fitted.kind, "params": fitted.params, "provenance": asdict(fitted.provenance)}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


class FittedModel:
    """What every fitted model shares (a frozen dataclass with ``weights`` and ``model``): the
    features it reads, the embedding model it applies to, and how it is read from its file."""

    kind: ClassVar[str]  # its file: bot/fitted/<kind>.json
    weights: dict[str, float]
    model: str  # the embedding model whose similarities it was fitted on

    @property
    def used(self) -> tuple[str, ...]:
        """The features it reads: those of non-zero weight (only those are computed)."""
        return tuple(f for f, w in self.weights.items() if w)

    def applies_to(self, settings: "Settings") -> bool:
        return settings.index.embedder != "fake" and settings.index.model == self.model

    @classmethod
    def fitted(cls: type[T]) -> T | None:
        """The model in bot/fitted/<kind>.json (``python -m evals.fit.<kind>`` writes it), or
        None before it was ever fitted."""
        file = load(cls.kind)  # type: ignore[attr-defined]
        return file.build(lambda params: cls(**params)) if file is not None else None
