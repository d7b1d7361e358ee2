"""The traced model's number format at ingest (index/embedding/precision.py): chosen from the
running CPU's flags at run time, bf16 wherever the CPU multiplies bf16 in hardware, the user's
setting respected, and each format its own export file, so an export made on another kind of
CPU is never run as something it is not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.embedding import precision
from index.embedding.embedders import IngestEmbedder, torchscript_path
from index.embedding.precision import PRECISIONS, choose_precision, cpu_flags, native_bf16, resolve_precision
from index.settings import IndexSettings

DATA = Path(__file__).parent / "data"
# Flags as /proc/cpuinfo lists them (abridged) on the kinds of host paperbot runs on.
SAPPHIRE_RAPIDS = {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8"}
EPYC_GENOA = {"avx2", "avx512f", "avx512_bf16", "avx512_vnni"}  # Zen 4: AVX-512 BF16, no AMX
ICE_LAKE = {"avx2", "avx512f", "avx512_vnni"}
ZEN_3 = {"avx2", "fma"}


@pytest.mark.parametrize(
    ("flags", "amx_permitted", "expected"),
    [
        (SAPPHIRE_RAPIDS, True, "amx"),
        (SAPPHIRE_RAPIDS, False, "avx512_bf16"),  # a VM whose kernel keeps AMX from the process
        (EPYC_GENOA, True, "avx512_bf16"),
        (ICE_LAKE, True, None),
        (ZEN_3, True, None),
        (set(), True, None),
    ],
)
def test_native_bf16_from_flags(flags, amx_permitted, expected):
    assert native_bf16(flags, amx_permitted) == expected


@pytest.mark.parametrize(
    ("setting", "native", "expected"),
    [
        ("auto", "amx", "bf16"),
        ("auto", "avx512_bf16", "bf16-autocast"),
        ("auto", None, "fp32"),
        ("fp32", "amx", "fp32"),  # the user's override wins
        ("fp32", "avx512_bf16", "fp32"),
        ("bf16", None, "bf16"),  # forced where bf16 is emulated: cast weights
        ("bf16", "amx", "bf16"),
        ("bf16", "avx512_bf16", "bf16-autocast"),
    ],
)
def test_choice_and_override(setting, native, expected):
    assert choose_precision(setting, native) == expected and expected in PRECISIONS


def test_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx2 avx512f avx512_bf16\n\n"
                       "processor\t: 1\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")  # fmt: skip
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512f", "avx512_bf16"}
    assert native_bf16(cpu_flags(cpuinfo)) == "avx512_bf16"


def test_the_running_host_decides(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(EPYC_GENOA))
    assert resolve_precision("auto") == "bf16-autocast"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(SAPPHIRE_RAPIDS))
    monkeypatch.setattr(precision, "_amx_permitted", lambda: True)
    assert resolve_precision("auto") == "bf16"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(ZEN_3))
    assert resolve_precision("auto") == "fp32" and resolve_precision("bf16") == "bf16"

    def no_probe():
        raise AssertionError("fp32 is the user's choice: the CPU is not probed")

    monkeypatch.setattr(precision, "host_bf16", no_probe)
    assert resolve_precision("fp32") == "fp32"


def test_each_format_has_its_own_export_file(tmp_path):
    settings = IndexSettings(export_dir=tmp_path)
    paths = {p: torchscript_path(settings, p) for p in PRECISIONS}
    assert len(set(paths.values())) == len(PRECISIONS)
    assert all(path.parent == tmp_path and path.name.endswith(".torchscript.pt") for path in paths.values())
    assert ".bf16." in paths["bf16"].name and ".bf16-autocast." in paths["bf16-autocast"].name
    assert "bf16" not in paths["fp32"].name


@pytest.mark.integration
def test_autocast_trace_gives_the_same_vectors_in_the_same_cache(tmp_path, monkeypatch):
    """The AVX-512 BF16 route (forced here by its flags, so it runs on any CPU): a trace made
    under torch.autocast, in its own file beside the cast-weights one; its vectors fill the one
    embedding cache, so they must be fp32's to cosine 0.9999."""
    settings = IndexSettings(export_dir=tmp_path, ingest_onnx_below=0)
    texts = [json.loads(line)["abstract"] for line in (DATA / "papers.jsonl").open()]
    fp32 = IngestEmbedder(settings.model_copy(update={"ingest_precision": "fp32"}))
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(EPYC_GENOA))
    auto = IngestEmbedder(settings)
    auto.plan(len(texts))
    assert auto.runtime == "torchscript-bf16-autocast" and auto.name == fp32.name
    assert [p.name for p in tmp_path.glob("*.torchscript.pt")] == [torchscript_path(settings, "bf16-autocast").name]
    a, b = fp32.embed(texts), auto.embed(texts)
    assert b.dtype == np.float32 and np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() > 0.9999 and cosines.max() < 1 - 1e-7  # close, and really bf16
