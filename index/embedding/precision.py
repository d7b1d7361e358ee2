"""The traced model's number format at ingest, chosen on the running host at run time (never
where paperbot was built or installed): bf16 where the CPU multiplies bf16 in hardware, fp32
elsewhere (emulated bf16 is slower than fp32). Two bf16 routes:

- ``bf16``: the weights cast to bf16, every op in bf16 — with Intel AMX (Sapphire Rapids and
  later Xeons), where it was measured fastest: on the 2-core AMX host, bundled papers, 108-121
  papers/s against 98-109 traced under autocast and 37 in fp32.
- ``bf16-autocast``: fp32 weights, traced under ``torch.autocast`` (matrix products in bf16,
  layer norms and softmax in fp32), so the file holds its casts — with AVX-512 BF16 but no AMX
  (AMD EPYC from Zen 4; Intel Cooper Lake), the route measured on such a host: autocast encoded
  the bundled papers at 38.0 papers/s against 21.9 in fp32 on an AMD EPYC (cosine 1.0000).
  Neither route has been timed on a real Intel CPU without AMX: with oneDNN held to AVX-512 BF16
  on the AMX host, bf16 (26-28 papers/s) was slower than fp32 (37); if a Cooper Lake host
  shows the same, ``ingest_precision='fp32'`` is the way out there."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

# The number formats the traced model is exported in (each its own export file).
PRECISIONS = ("fp32", "bf16", "bf16-autocast")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The running CPU's feature flags as Linux names them (``cpuinfo``); elsewhere the bf16
    ones torch's own probe of the running CPU finds."""
    try:
        with cpuinfo.open() as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    import torch

    probes = {"amx_bf16": "_is_amx_tile_supported", "avx512_bf16": "_is_avx512_bf16_supported"}
    return frozenset(flag for flag, probe in probes.items() if getattr(torch.cpu, probe, lambda: False)())


def _amx_permitted() -> bool:
    """Whether the kernel lets this process use AMX's tiles (a VM or an old kernel may not)."""
    import torch

    try:
        return bool(torch.cpu._init_amx())
    except AttributeError:  # a torch without the probe: as if not
        return False


def native_bf16(flags: Collection[str], amx_permitted: bool = True) -> str | None:
    """How a CPU with these feature flags multiplies bf16 in hardware: 'amx' (Intel AMX tiles,
    when the kernel lets the process use them), 'avx512_bf16' (AVX-512 BF16 dot products), or
    None (bf16 would be emulated)."""
    if "amx_bf16" in flags and amx_permitted:
        return "amx"
    if "avx512_bf16" in flags:
        return "avx512_bf16"
    return None


def choose_precision(setting: str, native: str | None) -> str:
    """The format for the ``ingest_precision`` setting ('auto', 'fp32' or 'bf16') on a CPU whose
    native bf16 is ``native`` (``native_bf16``): 'auto' is bf16 by that hardware's route, and
    fp32 where bf16 is not native; 'bf16' forces bf16 (cast weights where the CPU has no route
    of its own)."""
    if setting == "fp32" or (setting == "auto" and native is None):
        return "fp32"
    return "bf16-autocast" if native == "avx512_bf16" else "bf16"


def host_bf16() -> str | None:
    """``native_bf16`` of the CPU this process runs on."""
    flags = cpu_flags()
    return native_bf16(flags, amx_permitted="amx_bf16" in flags and _amx_permitted())


def resolve_precision(setting: str) -> str:
    """``choose_precision`` on the running host (its CPU is probed only when it matters)."""
    return choose_precision(setting, None if setting == "fp32" else host_bf16())
