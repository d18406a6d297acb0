"""Shared machinery for the spatial transforms: slabs, working dtype, separable products.

Spatial transforms see the selected features as M = N*C independent maps ``[M, H, W]``.
On the CPU a kernel that makes several passes over its data runs on consecutive *slabs*
of maps sized to stay in the L2 cache (``SLAB_BYTES``); each slab is one vectorised call
over many maps. This is memory blocking, not a loop over channels: the number of slabs
depends on bytes, and on CUDA the whole tensor is one slab. Set ``SLAB_BYTES = 0`` to
run every kernel in a single call.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np
import torch

SLAB_BYTES = 1 << 20  # 1 MiB of input maps per slab on the CPU

_HALF = (torch.float16, torch.bfloat16)


_NUMPY_MIN_BYTES = 1 << 21


def empty(shape, dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """An uninitialised output tensor; large CPU ones get their memory from NumPy.

    NumPy asks Linux for transparent huge pages (``madvise``) on big arrays, PyTorch's CPU
    allocator does not (unless ``THP_MEM_ALLOC_ENABLE=1``); first touching a fresh 64 MiB
    output then costs a few hundred page faults instead of ~16 000, which on a busy
    machine is often slower than the transform itself.
    """
    device = torch.device(device)
    numel = int(np.prod(shape)) if len(shape) else 1
    size = numel * torch.empty((), dtype=dtype).element_size()
    if device.type != "cpu" or size < _NUMPY_MIN_BYTES:
        return torch.empty(shape, dtype=dtype, device=device)
    return torch.from_numpy(np.empty(size, np.uint8)).view(dtype).view(shape)


def empty_like(x: torch.Tensor) -> torch.Tensor:
    """:func:`empty` with ``x``'s shape, dtype and device (always contiguous)."""
    return empty(tuple(x.shape), x.dtype, x.device)


def tracking(x: torch.Tensor) -> bool:
    """True when autograd records ops on ``x``: the ``out=`` fast paths must not be used."""
    return x.requires_grad and torch.is_grad_enabled()


def out_like(x: torch.Tensor) -> torch.Tensor | None:
    """A fast output buffer for ``out=``, or None (a plain differentiable op) under autograd."""
    return None if tracking(x) else empty_like(x)


def work_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype to compute in: float32 for half types on the CPU, else ``x.dtype``."""
    if x.device.type == "cpu" and x.dtype in _HALF:
        return torch.float32
    return x.dtype if x.is_floating_point() else torch.float32


def as_maps(x: torch.Tensor) -> torch.Tensor:
    """View ``[N, C, H, W]`` as ``[M, H, W]`` maps in the working dtype (no copy if possible)."""
    if x.dim() != 4:
        raise ValueError(f"expected an [N, C, H, W] tensor, got shape {tuple(x.shape)}")
    n, c, h, w = x.shape
    return x.to(work_dtype(x)).reshape(n * c, h, w)  # [M, H, W]


def slab_size(maps: torch.Tensor) -> int:
    """How many maps (rows of dim 0) one slab holds: all of them on CUDA or with slabs off."""
    m = maps.shape[0]
    if maps.device.type != "cpu" or SLAB_BYTES <= 0:
        return max(m, 1)
    return max(1, SLAB_BYTES // max(1, maps[:1].numel() * maps.element_size()))


def run_slabs(
    kernel: Callable[[torch.Tensor, torch.Tensor], None], maps: torch.Tensor, out: torch.Tensor
) -> torch.Tensor:
    """Apply ``kernel(src_slab, dst_slab)`` to consecutive slabs of maps (dim 0).

    With more than one slab, each op runs on one intra-op thread (restored afterwards) and
    the slabs are shared among ``torch.get_num_threads()`` Python threads instead: the
    kernels issue many small ops, and waking intra-op helper threads for each cost more
    than it saved (dilate r=2 on 8x512x64x64: 1.5 s with 2 intra-op threads vs 0.14 s
    with 1, on a busy 2-core machine), while whole slabs in parallel scale. Kernels must
    therefore keep any scratch memory per thread.
    """
    step = slab_size(maps)
    if step >= maps.shape[0]:
        kernel(maps, out)
        return out
    threads = torch.get_num_threads()
    starts = range(0, maps.shape[0], step)

    def one(start: int) -> None:
        kernel(maps[start:start + step], out[start:start + step])

    torch.set_num_threads(1)
    try:
        workers = min(threads, len(starts))
        if workers > 1:  # slabs are independent: one slab per thread at a time
            list(_pool(workers).map(one, starts))
        else:
            for start in starts:
                one(start)
    finally:
        torch.set_num_threads(threads)
    return out


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool(workers: int) -> ThreadPoolExecutor:
    """A shared pool of ``workers`` threads (torch and NumPy release the GIL inside kernels)."""
    if workers not in _POOLS:
        _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="netbend-slab")
    return _POOLS[workers]


def separable(maps: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``rows @ map @ cols.T`` for every map: a linear operator acting on each axis.

    ``rows`` is ``[H', H]`` and ``cols`` is ``[W', W]``; returns ``[M, H', W']``.
    """
    m, h, w = maps.shape
    tmp = torch.matmul(maps.reshape(m * h, w), cols.t())  # [M*H, W']
    tmp = tmp.view(m, h, -1).transpose(1, 2).reshape(-1, h)  # [M*W', H]
    out = torch.matmul(tmp, rows.t())  # [M*W', H']
    return out.view(m, -1, rows.shape[0]).transpose(1, 2)  # [M, H', W'] (strided)


def restore(maps: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``[M, H, W]`` maps back to ``like``'s shape, dtype and memory layout (contiguous)."""
    return maps.reshape(like.shape).to(like.dtype).contiguous()
