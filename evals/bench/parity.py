"""Behaviour parity: `paperbot search --json` and `ask --json` over the dev questions (and their
misspelt copies) on a fresh index of the bundled corpus, with what legitimately differs between
runs removed (run ids, timings, generation names). Save once, compare after a change:

    python -m evals.bench.parity --save before.jsonl
    python -m evals.bench.parity --compare before.jsonl

Runs the installed `paperbot` command in a temporary data folder, so it reads the same
questions the same way whatever the code's layout."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parents[1] / "questions"
SETS = ("bundled_dev.jsonl", "bundled_dev_typos.jsonl")
VOLATILE = {"run_id", "timings", "timings_ms", "generation"}
RUNS = (("search", ()), ("search", ("--mode", "bm25")), ("search", ("--mode", "dense")), ("ask", ()))


def _stable(obj):
    if isinstance(obj, dict):
        return {k: _stable(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_stable(v) for v in obj]
    return obj


def _paperbot() -> str:
    found = Path(sys.executable).with_name("paperbot")
    return str(found) if found.exists() else "paperbot"


def collect(timeout: float = 1800) -> list[dict]:
    questions = [json.loads(line)["question"] for name in SETS for line in (QUESTIONS / name).open() if line.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="paperbot-parity-") as tmp:
        env = {**os.environ, "PAPERBOT_INDEX__DATA_DIR": str(Path(tmp) / "data")}
        subprocess.run([_paperbot(), "ingest", "--no-progress"], env=env, check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL)
        stdin = "\n".join(q.replace("\n", " ") for q in questions) + "\n"
        for command, flags in RUNS:
            out = subprocess.run([_paperbot(), command, "--json", *flags], env=env, input=stdin, text=True,
                                 capture_output=True, timeout=timeout)
            lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
            if len(lines) != len(questions):
                raise SystemExit(f"{command} {' '.join(flags)}: {len(lines)} results for {len(questions)} questions\n{out.stderr[-2000:]}")
            for q, obj in zip(questions, lines):
                rows.append({"run": " ".join([command, *flags]), "question": q, "result": _stable(obj)})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--save", type=Path, help="write the results here")
    g.add_argument("--compare", type=Path, help="compare with results saved earlier")
    args = p.parse_args(argv)
    rows = collect()
    if args.save:
        args.save.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
        print(f"saved {len(rows)} results to {args.save}")
        return 0
    before = [json.loads(line) for line in args.compare.read_text(encoding="utf-8").splitlines() if line.strip()]
    diff = [(a, b) for a, b in zip(before, rows) if _stable(a) != b]
    print(f"{len(rows)} results, {len(before)} saved, {len(diff)} differ")
    for a, b in diff[:5]:
        print(f"{b['run']}: {b['question'][:80]!r}: {', '.join(_differences(_stable(a), b)[:5])}")
    return 0 if not diff and len(before) == len(rows) else 1


def _differences(a, b, where: str = "") -> list[str]:
    """The paths at which two results differ, with the values when they are short."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(a.keys() | b.keys()) for d in _differences(a.get(k), b.get(k), f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{where}[{i}]")]
    if a == b:
        return []
    return [f"{where}: {a!r:.60} -> {b!r:.60}"]


if __name__ == "__main__":
    sys.exit(main())
