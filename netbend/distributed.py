"""Run a command's chunks of work on a Ray cluster. The only module in netbend that imports Ray.

A command splits its work into chunks (batches of latents x variations, aligned batches of frames,
files, layers) and gives :func:`map_chunks` two plain functions::

    map_chunks(RayOptions("local", workers=2), setup=partial(load_model, None),
               work=partial(render_chunk, job), chunks=job.chunks(), on_result=write)

Each worker is one Ray actor: it calls ``setup()`` once (loads the model) and then ``work(state,
chunk)`` for every chunk it is sent, the same library function the single-process command calls.
Results come back to the driver as arrays and ``on_result`` (the command's own writer) saves them,
so the cluster needs no shared storage. An actor whose process dies is restarted by Ray and its
unfinished chunks are run again (``max_restarts`` / ``max_task_retries``): the job still completes,
with the same outputs.

Workers use the driver's torch thread count and device, because CPU kernels may round differently
with another thread count; with that (and the same hardware), outputs are bit for bit those of the
single-process run.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from netbend.errors import NetbendError

INSTALL_HINT = "--ray needs Ray, an optional extra: pip install 'netbend[ray]'"
# fault injection for tests and drills: the first life of every actor exits (os._exit) when it is
# sent its (N+1)-th chunk, mid-job; Ray restarts it and re-runs that chunk
EXIT_AFTER_ENV = "NETBEND_RAY_TEST_EXIT_AFTER"
RETRIES = 3  # restarts per actor and re-runs per chunk after a worker dies


@dataclass(frozen=True)
class RayOptions:
    """Where to run: ``address`` 'local' (start Ray here), 'auto' (the cluster this machine joined
    with ``ray start``) or an address ('HOST:6379', 'ray://HOST:10001'); ``workers`` actors (default:
    one per ``threads`` CPUs of the cluster); ``threads``: torch threads per worker."""

    address: str = "local"
    workers: int | None = None
    threads: int = 1
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not self.address:
            raise NetbendError("--ray: empty address (use 'local', 'auto' or HOST:PORT)")
        if self.workers is not None and self.workers < 1:
            raise NetbendError(f"--workers must be at least 1, got {self.workers}")


def require_ray():
    """Import Ray, or raise the one-line install hint."""
    try:
        import ray
    except ImportError:
        raise NetbendError(INSTALL_HINT) from None
    return ray


def check_address(address: str, timeout: float = 5.0) -> None:
    """Refuse at once a HOST:PORT where nothing listens (Ray itself would retry for minutes)."""
    import socket

    if address in ("local", "auto") or "://" in address:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise NetbendError(f"--ray {address}: expected 'local', 'auto' or HOST:PORT (e.g. 10.0.0.5:6379)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise NetbendError(f"--ray {address}: nothing answers there ({err.strerror or err}); start the "
                           "cluster's head with `ray start --head`, or use --ray local") from None


@contextmanager
def session(opts: RayOptions | None):
    """Start or join Ray once for several :func:`map_chunks` calls (nothing for ``None``)."""
    if opts is None:
        yield
        return
    ray = require_ray()
    started = _connect(ray, opts)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def no_state() -> None:
    """A worker setup for work that needs no model (e.g. training a layer's CNN from files)."""
    return None


def map_chunks(opts: RayOptions, setup: Callable[[], Any], work: Callable[[Any, Any], Any],
               chunks: Sequence[Any], on_result: Callable[[Any, Any], None]) -> None:
    """Run ``work(setup(), chunk)`` for every chunk on Ray actors; ``on_result(chunk, result)`` in
    the driver as each result arrives (any order). Errors raised by ``work`` reach the caller."""
    if not chunks:
        return
    ray = require_ray()
    started = _connect(ray, opts)
    actors = []
    try:
        workers = min(len(chunks), opts.workers or _cluster_workers(ray, opts.threads))
        exit_after = os.environ.get(EXIT_AFTER_ENV)
        cls = ray.remote(_Worker).options(num_cpus=opts.threads, num_gpus=1 if opts.device.startswith("cuda") else 0,
                                          max_restarts=RETRIES, max_task_retries=RETRIES)
        actors = [cls.remote(setup, work, opts.threads, int(exit_after) if exit_after else None)
                  for _ in range(workers)]
        _drive(ray, actors, chunks, on_result)
    finally:
        for actor in actors:
            ray.kill(actor)
        if started:
            ray.shutdown()


def _connect(ray, opts: RayOptions) -> bool:
    """Start or join Ray unless this process already did; True when this call started it."""
    if ray.is_initialized():
        return False
    kw = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    try:
        if opts.address == "local":
            ray.init(num_cpus=(opts.workers or 1) * opts.threads, **kw)
        else:
            ray.init(address=opts.address, **kw)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise NetbendError(f"--ray {opts.address}: cannot connect ({str(err).splitlines()[0]})") from None
    return True


def _cluster_workers(ray, threads: int) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)) // threads)


def _drive(ray, actors: list, chunks: Sequence[Any], on_result: Callable[[Any, Any], None]) -> None:
    """Keep two chunks in flight per actor; hand each result to ``on_result`` as it arrives.
    ``chunks[i]`` is read only when chunk i is sent (a sequence may load its items lazily)."""
    queue = list(range(len(chunks)))
    pending: dict = {}

    def submit(actor) -> None:
        if queue:
            chunk = chunks[queue.pop(0)]
            pending[actor.run.remote(chunk)] = (chunk, actor)

    for _ in range(2):
        for actor in actors:
            submit(actor)
    while pending:
        (ref,), _ = ray.wait(list(pending), num_returns=1)
        chunk, actor = pending.pop(ref)
        on_result(chunk, _get(ray, ref))
        submit(actor)


def _get(ray, ref):
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, NetbendError):
            raise NetbendError(str(cause)) from None
        raise


class _Worker:
    """One Ray actor: holds ``setup()`` (the model) and runs ``work`` on the chunks it is sent."""

    def __init__(self, setup: Callable[[], Any], work: Callable[[Any, Any], Any], threads: int,
                 exit_after: int | None) -> None:
        import ray
        import torch

        torch.set_num_threads(threads)
        self.work = work
        self.state = setup()
        self.done = 0
        first_life = not ray.get_runtime_context().was_current_actor_reconstructed
        self.exit_after = exit_after if first_life else None

    def run(self, chunk: Any) -> Any:
        if self.exit_after is not None and self.done >= self.exit_after:
            os._exit(1)  # a worker dying mid-job (see EXIT_AFTER_ENV)
        result = self.work(self.state, chunk)
        self.done += 1
        return result
