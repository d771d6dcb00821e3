"""What machine ran the benchmark, and its theoretical float32 peak (pure Python, no torch)."""

from __future__ import annotations

import os
import platform
import re
import sys
from pathlib import Path

# Two FMA pipes per core: true of AMD Zen 2-5 and Intel cores since Haswell (some Xeon SKUs have one
# 512-bit FMA unit, so their AVX-512 peak is half of what this assumes).
FMA_PIPES = 2


def cpuinfo(text: str | None = None) -> dict:
    """Model name, flags, clock (MHz) and cores from /proc/cpuinfo (empty on systems without it)."""
    if text is None:
        path = Path("/proc/cpuinfo")
        text = path.read_text() if path.exists() else ""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    logical = len(re.findall(r"^processor\s*:", text, flags=re.M)) or os.cpu_count() or 1
    siblings, cores = int(fields.get("siblings", logical)), int(fields.get("cpu cores", logical))
    threads_per_core = max(1, siblings // max(1, cores))
    return {
        "model": fields.get("model name", platform.processor() or "unknown"),
        "vendor": fields.get("vendor_id", ""),
        "family": fields.get("cpu family", ""),
        "model_number": fields.get("model", ""),
        "mhz": float(fields["cpu MHz"]) if "cpu MHz" in fields else None,
        "flags": sorted(fields.get("flags", "").split()),
        "logical_cpus": logical,
        "physical_cores": max(1, logical // threads_per_core),
    }


def peak_gflops(flags: list[str] | set[str], mhz: float | None, cores: int) -> dict:
    """Theoretical float32 peak = cores x clock x FLOPs per cycle, with the arithmetic spelled out.

    FLOPs per cycle per core = FMA pipes x float32 lanes (16 with AVX-512, 8 with AVX/AVX2, 4 with SSE)
    x 2 (a fused multiply-add is two FLOPs). Without FMA, one add and one multiply pipe give lanes x 2.
    """
    flags = set(flags)
    lanes, isa = (16, "AVX-512") if "avx512f" in flags else (8, "AVX2") if "avx2" in flags else \
        (8, "AVX") if "avx" in flags else (4, "SSE")
    per_cycle = FMA_PIPES * lanes * 2 if "fma" in flags else lanes * 2
    how = (f"{cores} cores x {mhz:.0f} MHz x {per_cycle} FLOP/cycle ({isa}"
           f"{', FMA' if 'fma' in flags else ''}: {FMA_PIPES if 'fma' in flags else 1} pipe(s) x {lanes} float32 lanes"
           f" x 2)") if mhz else "clock unknown"
    return {"gflops": cores * mhz * 1e-3 * per_cycle if mhz else None, "isa": isa, "flops_per_cycle": per_cycle,
            "how": how}


def machine_info() -> dict:
    info = cpuinfo()
    return {
        "cpu": info["model"],
        "cpu_family_model": f"{info['vendor']} family {info['family']} model {info['model_number']}".strip(),
        "logical_cpus": info["logical_cpus"],
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else info["logical_cpus"],
        "physical_cores": info["physical_cores"],
        "mhz": info["mhz"],
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "peak": peak_gflops(info["flags"], info["mhz"], info["physical_cores"]),
    }
