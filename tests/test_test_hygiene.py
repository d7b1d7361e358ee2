"""Every wait on a process a test starts has a deadline, checked on the tests' own source so
the rule cannot rot. pytest-timeout (pyproject.toml) bounds each test as a whole; these
bound each child, so a hung one fails its test with a clear error instead of using up the limit."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

TESTS = Path(__file__).parent
# pytest-timeout's per-test limit: a child's own timeout must be shorter, or the per-test limit
# (which ends the whole run) would fire first.
PER_TEST_S = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["timeout"]
# subprocess functions that wait for the child; their timeout is keyword-only.
RUNNERS = {"run", "call", "check_call", "check_output"}


def _timed(call: ast.Call, limit: float, place: int | None = None) -> bool:
    """A ``timeout=`` keyword, or a positional argument at the timeout's ``place`` (1-based),
    and if it is a number, one below ``limit``. A ``**kwargs`` splat does not count: the
    timeout must be visible where the call is."""
    given = [k.value for k in call.keywords if k.arg == "timeout"]
    if not given and place is not None and len(call.args) >= place:
        given = [call.args[place - 1]]
    if not given:
        return False
    value = given[0].value if isinstance(given[0], ast.Constant) else None
    return not isinstance(value, (int, float)) or value < limit


def untimed(source: str, limit: float = PER_TEST_S) -> list[str]:
    """``"line: call"`` for each call in ``source`` that may wait on a process with no deadline
    (or a literal one of ``limit`` seconds or more): ``subprocess.run/call/check_call/check_output``
    (also imported by name), ``.communicate()`` and ``.wait()``. Any ``.wait()`` with no argument
    counts: a ``threading.Event`` waited on forever hangs a test just as a process does."""
    tree = ast.parse(source)
    imported = {a.asname or a.name: a.name for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom) and n.module == "subprocess" for a in n.names}  # fmt: skip
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "subprocess":
            bad = f.attr in RUNNERS and not _timed(node, limit)
        elif isinstance(f, ast.Name):
            bad = imported.get(f.id) in RUNNERS and not _timed(node, limit)
        elif isinstance(f, ast.Attribute) and f.attr == "communicate":
            bad = not _timed(node, limit, place=2)  # communicate(input, timeout)
        elif isinstance(f, ast.Attribute) and f.attr == "wait":
            bad = not _timed(node, limit, place=1)  # Popen.wait(timeout), Event.wait(timeout)
        else:
            bad = False
        if bad:
            found.append((node.lineno, f"{node.lineno}: {ast.unparse(node)[:120]}"))
    return [text for _, text in sorted(found)]


def test_every_process_a_test_waits_for_has_a_timeout():
    problems = [f"tests/{p.name}:{line}" for p in sorted(TESTS.glob("*.py")) for line in untimed(p.read_text())]
    assert problems == [], (
        f"give these calls a timeout= under the per-test limit of {PER_TEST_S} s (pyproject.toml),"
        " so that a hung child fails its test instead of using up CI's budget:\n" + "\n".join(problems)
    )


def test_the_rule_catches_every_kind_of_untimed_wait():
    bad = """
import subprocess
from subprocess import check_output as co
subprocess.run(["x"], check=True)
subprocess.check_call(["x"])
co(["x"])
proc = subprocess.Popen(["x"])
proc.wait()
proc.communicate("input")
subprocess.run(["x"], **options)
subprocess.call(["x"])
proc.wait(timeout=300)
proc.communicate(None, 301.5)
"""
    good = """
import subprocess
from subprocess import run
subprocess.run(["x"], check=True, timeout=5)
subprocess.check_output(["x"], timeout=5)
run(["x"], timeout=5)
proc = subprocess.Popen(["x"])
proc.wait(5)
proc.wait(timeout=5)
proc.communicate(timeout=5)
proc.communicate("input", 5)
proc.wait(timeout=limit_s)
print("wait", str.join)
"""
    assert [line.split(":")[0] for line in untimed(bad, limit=300)] == ["4", "5", "6", "8", "9", "10", "11", "12", "13"]
    assert untimed(good, limit=300) == []
