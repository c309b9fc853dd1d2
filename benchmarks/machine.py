"""Describe the machine and measure its matmul throughput (the physical limit)."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_machine(threads: int) -> dict:
    import torch

    return {
        "cpu": cpu_model(),
        "cores_available": len(os.sched_getaffinity(0)),
        "torch_threads": threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "os": f"{platform.system()} {platform.release()}",
    }


def matmul_gflops(threads: int, size: int = 2048, repeats: int = 20,
                  dtype: str = "float32") -> float:
    """Best-of-``repeats`` GFLOP/s of a (size x size) @ (size x size) matmul in ``dtype``
    (``"float32"`` or ``"bf16"``: the limits of float32 and of bfloat16 training)."""
    import torch

    torch.set_num_threads(threads)
    kind = {"float32": torch.float32, "bf16": torch.bfloat16}[dtype]
    a, b = torch.randn(size, size).to(kind), torch.randn(size, size).to(kind)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9
