"""Writing a fitted model as data (bot/fitted/<name>.json, read by bot/fitted/models.py) with
its provenance: the command line, a hash of every data file the fit read, the commit and
whether the tree had uncommitted changes, the date, and the fit's metrics."""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import bot.fitted
from bot.fitted.models import FittedFile, Provenance, dumps
from evals.report import checkout_commit

ROOT = Path(__file__).resolve().parents[2]
FITTED = Path(bot.fitted.__file__).resolve().parent


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def data_files(paths: list[Path]) -> dict[str, Path]:
    """``paths`` (files, or folders of files) by the name the provenance gives them: relative to
    the repository when inside it, else as given."""
    files = [f for p in paths for f in (sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p])]
    out = {}
    for f in files:
        resolved = f.resolve()
        out[str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(f)] = resolved
    return out


def git_state() -> tuple[str, bool | None]:
    """(the checkout's commit, as reports record it, and whether its tree has uncommitted
    changes); ('unknown', None) outside a checkout."""
    commit = checkout_commit(short=False)
    if commit == "unknown":
        return commit, None
    try:
        status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                                check=True, timeout=30).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return commit, None
    return commit, bool(status.strip())


def fitted_file(
    name: str,
    params: dict[str, Any],
    data: Mapping[str, Path],
    metrics: dict[str, Any] | None,
    command: str | None = None,
    note: str | None = None,
) -> FittedFile:
    """The model ``name`` as its file holds it; ``data``: every file the fit read, by its name in
    the provenance; ``command``: default, this process's (``python -m evals.fit.<name> ...``)."""
    commit, dirty = git_state()
    provenance = Provenance(
        command=command or shlex.join(["python", "-m", f"evals.fit.{name}", *sys.argv[1:]]),
        data={label: sha256(path) for label, path in data.items()},
        commit=commit,
        dirty=dirty,
        fitted_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        metrics=metrics,
        note=note,
    )
    return FittedFile(name, params, provenance, source=str(FITTED / f"{name}.json"))


def write(fitted: FittedFile) -> Path:
    """Writes ``fitted`` to bot/fitted/<name>.json; returns the path."""
    path = FITTED / f"{fitted.kind}.json"
    path.write_text(dumps(fitted), encoding="utf-8")
    return path
