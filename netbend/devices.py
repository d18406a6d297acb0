"""Choosing the torch device: ``auto`` means CUDA when present, else the CPU."""
from __future__ import annotations

import os

import torch

from netbend.errors import NetbendError


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cuda' without CUDA is a clear error."""
    if isinstance(name, torch.device):
        name = str(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise NetbendError(f"--device: unknown device '{name}' (use auto, cpu or cuda)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise NetbendError(f"--device {name}: no CUDA device is available here (use --device cpu or auto)")
    return device


def default_threads() -> int:
    """$NETBEND_THREADS when set, else half the CPU cores this process may use (at least 1).

    Half, because torch's intra-op threads spin while they wait and collapse when another job
    holds a core: on a shared 2-core machine one thread rendered 256 seeds in 2.5 s against
    3.3 s with two and 3.8 s with torch's default (benchmarks/threads.py, medians).
    """
    env = os.environ.get("NETBEND_THREADS", "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise NetbendError(f"$NETBEND_THREADS: expected a whole number >= 1, got '{env}'")
        return int(env)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // 2)


def set_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads (and inter-op threads, where torch still allows it).

    ``None`` means :func:`default_threads`. Returns the number set.
    """
    n = default_threads() if threads is None else int(threads)
    if n < 1:
        raise NetbendError(f"--threads: expected a whole number >= 1, got {n}")
    torch.set_num_threads(n)
    try:  # only possible before any inter-op work has started in this process
        torch.set_num_interop_threads(n)
    except RuntimeError:
        pass
    return n
