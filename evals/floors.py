"""The quality floors recorded in evals/floors.toml, and the check CI runs against them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import BadInput

FLOORS = Path(__file__).resolve().parent / "floors.toml"


@dataclass(frozen=True)
class Floors:
    dataset: str
    config: str
    floors: dict[str, float]  # metric >= value
    ceilings: dict[str, float]  # metric <= value (rates where lower is better)


def load_floors(path: Path = FLOORS) -> Floors:
    try:
        d = tomllib.loads(path.read_text(encoding="utf-8"))
        return Floors(d["dataset"], d["config"], dict(d["floors"]), dict(d.get("ceilings", {})))
    except (OSError, KeyError, tomllib.TOMLDecodeError) as e:
        raise BadInput(f"{path}: not a floors file ({e}); it needs dataset, config and [floors].") from e


def violations(summary: dict[str, Any], floors: Floors) -> list[str]:
    """One line per metric outside its recorded bound; a metric missing from the summary fails too."""
    out = []
    for metric, bound in floors.floors.items():
        value = summary.get(metric)
        if value is None or value < bound:
            out.append(f"{metric} = {value} is below its floor {bound}")
    for metric, bound in floors.ceilings.items():
        value = summary.get(metric)
        if value is None or value > bound:
            out.append(f"{metric} = {value} is above its ceiling {bound}")
    return out
