"""The quality floors recorded in evals/floors.toml, and the check CI runs against them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
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
    # baseline configuration -> metric -> least lead of ``config`` over it on the same questions
    # (hybrid over bm25 and dense: the fusion must keep earning its place).
    margins: dict[str, dict[str, float]] = field(default_factory=dict)


def load_floors(path: Path = FLOORS) -> Floors:
    try:
        d = tomllib.loads(path.read_text(encoding="utf-8"))
        margins = {name: dict(metrics) for name, metrics in d.get("margins", {}).items()}
        return Floors(d["dataset"], d["config"], dict(d["floors"]), dict(d.get("ceilings", {})), margins)
    except (OSError, KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as e:
        raise BadInput(f"{path}: not a floors file ({e}); it needs dataset, config and [floors].") from e


def violations(
    summary: dict[str, Any], floors: Floors, baselines: dict[str, dict[str, Any]] | None = None
) -> list[str]:
    """One line per metric outside its recorded bound; a metric missing from the summary fails
    too, and so does a margin whose baseline did not run (``baselines``: name -> summary)."""
    out = []
    for metric, bound in floors.floors.items():
        value = summary.get(metric)
        if value is None or value < bound:
            out.append(f"{metric} = {value} is below its floor {bound}")
    for metric, bound in floors.ceilings.items():
        value = summary.get(metric)
        if value is None or value > bound:
            out.append(f"{metric} = {value} is above its ceiling {bound}")
    for name, metrics in floors.margins.items():
        other = (baselines or {}).get(name)
        for metric, bound in metrics.items():
            mine, theirs = summary.get(metric), (other or {}).get(metric)
            if mine is None or theirs is None:
                out.append(f"{metric}: no margin over {name} can be checked ({name} did not run or lacks it)")
            elif mine - theirs < bound:
                out.append(
                    f"{metric} leads {name} by {mine - theirs:+.3f}, less than its margin {bound} "
                    f"({floors.config} {mine:.3f}, {name} {theirs:.3f})"
                )
    return out
