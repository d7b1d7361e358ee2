"""Dependencies point one way: index <- bot <- evals. A lower layer never imports a higher
one, not even lazily inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HIGHER = {"index": {"bot", "evals"}, "bot": {"evals"}}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", sorted(HIGHER))
def test_no_upward_imports(layer):
    bad = {
        str(p.relative_to(ROOT)): sorted(imported_packages(p) & HIGHER[layer])
        for p in (ROOT / layer).rglob("*.py")
        if imported_packages(p) & HIGHER[layer]
    }
    assert bad == {}

