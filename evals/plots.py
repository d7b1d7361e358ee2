"""The report's PNG charts. matplotlib lives behind this module only, and is imported when a
chart is drawn (headless Agg backend: no screen needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def grouped_bars(
    path: Path,
    title: str,
    groups: list[str],
    series: dict[str, list[float | None]],
    errors: dict[str, list[tuple[float, float] | None]] | None = None,
    ylabel: str = "",
) -> Path:
    """One bar group per entry of ``groups`` (metrics or question types), one bar per series
    (configuration); ``errors`` gives (lo, hi) intervals drawn as error bars."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(groups) * max(1, len(series)) / 2), 4.2))
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        heights = [v if v is not None else float("nan") for v in values]  # n/a: no bar, not 0
        yerr = None
        if errors and name in errors:
            yerr = [
                [max(0.0, h - e[0]) if e and h == h else 0.0 for h, e in zip(heights, errors[name])],
                [max(0.0, e[1] - h) if e and h == h else 0.0 for h, e in zip(heights, errors[name])],
            ]
        ax.bar(xs, heights, width, label=name, yerr=yerr, capsize=2)
    ax.set_xticks(range(len(groups)), groups, rotation=20 if len(groups) > 5 else 0, ha="right" if len(groups) > 5 else "center")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small", ncols=min(4, len(series)))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def curves(
    path: Path, title: str, xs: list[int], series: dict[str, list[float | None]], xlabel: str, ylabel: str,
    ylim: tuple[float, float] | None = (0, 1.02),
) -> Path:  # fmt: skip
    """One line per series over a log-scaled x axis (``ylim`` None: fit to the data)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, ys in series.items():
        ax.plot(xs, [y if y is not None else float("nan") for y in ys], marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xticks(xs, [str(x) for x in xs])
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def distributions(path: Path, title: str, series: dict[str, list[float]], ylabel: str) -> Path:
    """Box plots with the points: latency per configuration."""
    plt = _pyplot()
    names = [n for n, v in series.items() if v]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(names)), 4.2))
    data: list[Any] = [series[n] for n in names]
    if data:
        ax.boxplot(data, showfliers=True)
        ax.set_xticks(range(1, len(names) + 1), names)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
