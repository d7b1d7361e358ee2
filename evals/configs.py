"""Named configurations for `paperbot eval run`, read from small YAML or TOML files.

A configuration is a name plus overrides of the Settings sections it changes, e.g. (TOML)::

    [[configs]]
    name = "rrf"
    description = "reciprocal-rank fusion instead of weighted"
    retrieval = { fusion = "rrf", top_k = 8 }

    [[configs]]
    name = "strict"
    retrieval = { min_similarity = 0.55 }
    answer = { max_citations = 2 }

or the same as YAML (``configs: [{name: rrf, retrieval: {fusion: rrf}}]``). A file may also hold
a single configuration at its top level. Overrides of ``index`` (model, chunking) or of
``retrieval.bm25_stemmer`` give the configuration its own index, built from the same papers.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from index.errors import BadInput
from index.settings import Settings
from index.text import content_hash

SECTIONS = ("index", "retrieval", "answer", "llm")
# What decides an index's contents (index_fingerprint in index/settings/): changing one builds another index.
INDEX_CONTENT = (
    "embedder", "model", "max_tokens", "chunk_tokens", "chunk_overlap_sentences", "max_chunks", "vector_store",
)  # fmt: skip
# An evaluation compares settings over the same papers; where they live is not a configuration.
FIXED_INDEX = ("data_dir", "name", "corpus")
SECRET = re.compile(r"key|token|secret|password", re.IGNORECASE)
EXAMPLE = "see evals/configs/example.toml"


@dataclass(frozen=True)
class EvalConfig:
    name: str
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""

    def index_changes(self, settings: Settings) -> dict[str, Any]:
        """The overrides that change the index's contents against ``settings``; non-empty
        means this configuration needs an index of its own."""
        wanted = {k: v for k, v in self.overrides.get("index", {}).items() if k in INDEX_CONTENT}
        if "bm25_stemmer" in self.overrides.get("retrieval", {}):
            wanted["bm25_stemmer"] = self.overrides["retrieval"]["bm25_stemmer"]
        current = {**settings.index.model_dump(), "bm25_stemmer": settings.retrieval.bm25_stemmer}
        return {k: v for k, v in wanted.items() if str(v) != str(current[k])}

    def redacted(self) -> dict[str, dict[str, Any]]:
        """The overrides as reports show them: secrets (an llm api_key) masked."""
        return {
            section: {k: "**********" if SECRET.search(k) else v for k, v in values.items()}
            for section, values in self.overrides.items()
        }

    def apply(self, settings: Settings) -> Settings:
        """The settings this configuration runs with: ``settings`` plus the overrides, validated."""
        update: dict[str, Any] = {}
        for section, values in self.overrides.items():
            current = getattr(settings, section)
            try:
                update[section] = type(current).model_validate({**current.model_dump(), **values})
            except ValidationError as e:
                problems = "; ".join(
                    f"{section}.{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()
                )
                raise BadInput(
                    f"configuration '{self.name}': {problems} (fields are those of Settings, "
                    f"see index/settings/; {EXAMPLE})."
                ) from e
        changes = self.index_changes(settings)
        if changes:
            # Its own index, named by what differs, so re-runs reuse it and never mix with the user's.
            tag = content_hash(json.dumps(changes, sort_keys=True, default=str))[:8]
            update["index"] = update.get("index", settings.index).model_copy(
                update={"name": f"{settings.index.name}-{tag}"}
            )
        return settings.model_copy(update=update)


# Always in a report, so every report shows what the hybrid pipeline adds over each retriever.
BASELINES = (
    EvalConfig("bm25", {"retrieval": {"mode": "bm25"}}, "baseline: BM25 only"),
    EvalConfig("dense", {"retrieval": {"mode": "dense"}}, "baseline: the embedding model's nearest chunks only"),
    EvalConfig("hybrid", {"retrieval": {"mode": "hybrid"}}, "the pipeline: dense and BM25 fused"),
)
REFERENCE = "hybrid"


def _read(path: Path) -> Any:
    if not path.is_file():
        raise BadInput(f"{path}: no such configuration file; give a .toml or .yaml file ({EXAMPLE}).")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise BadInput(f"{path}: not valid TOML ({e}).") from e
    if path.suffix in (".yaml", ".yml"):
        import yaml  # PyYAML: used only here

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise BadInput(f"{path}: not valid YAML ({e}).") from e
    raise BadInput(f"{path}: unknown configuration format; use .toml, .yaml or .yml ({EXAMPLE}).")


def _config(raw: Any, where: str) -> EvalConfig:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise BadInput(f"{where}: each configuration needs a 'name' ({EXAMPLE}).")
    unknown = set(raw) - {"name", "description", *SECTIONS}
    if unknown:
        raise BadInput(
            f"{where}: configuration '{raw['name']}' has unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: name, description, {', '.join(SECTIONS)} ({EXAMPLE})."
        )
    overrides = {s: raw[s] for s in SECTIONS if s in raw}
    for section, values in overrides.items():
        if not isinstance(values, dict):
            raise BadInput(f"{where}: '{raw['name']}'.{section} must be a table of settings ({EXAMPLE}).")
    fixed = sorted(set(overrides.get("index", {})) & set(FIXED_INDEX))
    if fixed:
        raise BadInput(
            f"{where}: '{raw['name']}' sets index.{', index.'.join(fixed)}; configurations compare settings "
            "over the same papers, so choose the index with PAPERBOT_INDEX__DATA_DIR / __NAME and the "
            "papers with --dataset instead."
        )
    return EvalConfig(raw["name"].strip(), overrides, str(raw.get("description", "")))


def load_configs(path: Path) -> list[EvalConfig]:
    data = _read(path)
    if isinstance(data, dict) and "configs" in data:
        entries = data["configs"]
        if not isinstance(entries, list):
            raise BadInput(f"{path}: 'configs' must be a list of configurations ({EXAMPLE}).")
    else:
        entries = [data]
    return [_config(e, f"{path}") for e in entries]


def with_baselines(configs: list[EvalConfig]) -> list[EvalConfig]:
    """Baselines first, then the user's configurations; names must be unique."""
    out = list(BASELINES)
    for c in configs:
        if any(c.name == o.name for o in out):
            raise BadInput(
                f"configuration name '{c.name}' is used twice (bm25, dense and hybrid are the "
                "built-in baselines); give each configuration its own name."
            )
        out.append(c)
    return out
