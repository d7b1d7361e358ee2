"""Spelling at scale: the speller of a 300k-word vocabulary (about what 100k abstracts hold),
built, then asked for long words that no corpus word is one edit from — a typo on a typo, or a
real word the corpus lacks — which scan the corpus words one or two letters longer.

    python -m evals.bench.spelling [--words 300000]

Words are synthetic (letters drawn by English letter frequency, about 8 letters long, counts
Pareto-distributed); no model is loaded (the tokenizer's words are left out)."""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bot.query.spelling import Speller

# English letter frequencies (per mille), a to z.
_FREQ = (82, 15, 28, 43, 127, 22, 20, 61, 70, 2, 8, 40, 24, 67, 75, 19, 1, 60, 63, 91, 28, 10, 24, 2, 20, 1)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def vocabulary(n: int, rng: random.Random) -> dict[str, int]:
    words: dict[str, int] = {}
    while len(words) < n:
        w = "".join(rng.choices(_LETTERS, _FREQ, k=max(3, min(16, int(rng.gauss(8, 2.5))))))
        words[w] = max(1, int(rng.paretovariate(1.2)))
    return words


def two_slips(word: str, rng: random.Random) -> str:
    """``word`` with a letter dropped and another changed: two edits, one letter shorter."""
    i = rng.randrange(1, len(word))
    w = word[:i] + word[i + 1 :]
    j = rng.randrange(1, len(w))
    return w[:j] + rng.choice(_LETTERS) + w[j + 1 :]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--words", type=int, default=300_000)
    ap.add_argument("--asks", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(0)
    counts = vocabulary(args.words, rng)
    t0 = time.perf_counter()
    sp = Speller.build(counts)
    built = time.perf_counter() - t0
    long_words = [w for w, c in counts.items() if len(w) >= 9 and c >= 2]
    slips = [two_slips(rng.choice(long_words), rng) for _ in range(args.asks)]
    unknown = ["".join(rng.choices(_LETTERS, _FREQ, k=rng.randint(8, 14))) for _ in range(args.asks)]
    print(f"{len(counts):,} words: speller built in {built:.2f} s")
    for name, asks in (("typo on a typo", slips), ("unknown long word", unknown)):
        times, found = [], 0
        for w in asks:
            t = time.perf_counter()
            found += sp.nearest(w) is not None
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(f"{name:>18}: nearest() p50 {statistics.median(times):.1f} ms, p95 {times[int(0.95 * len(times))]:.1f} ms, "
              f"a corpus word found for {found}/{len(asks)}")  # fmt: skip


if __name__ == "__main__":
    main()
