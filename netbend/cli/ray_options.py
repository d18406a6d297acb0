"""``--ray [ADDRESS]`` and ``--workers N``: run a command's chunks on a Ray cluster (netbend[ray])."""
from __future__ import annotations

import click


def ray_options(fn):
    """Add ``--ray [ADDRESS]`` and ``--workers N`` to a command."""
    fn = click.option("--workers", type=click.IntRange(1), default=None,
                      help="With --ray: worker actors, each holding the model once "
                           "[default: 2 for 'local', else one per --threads CPUs of the cluster].")(fn)
    return click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None,
                        metavar="[ADDRESS]",
                        help="Run on Ray: alone or 'local' starts Ray here; 'auto' or HOST:PORT joins "
                             "a cluster (`ray start --head`). Outputs are the single-process run's, bit "
                             "for bit (docs/ray.md).")(fn)


def ray_settings(address: str | None, workers: int | None, device) -> "object | None":
    """The :class:`netbend.distributed.RayOptions` for the given flags (None without --ray)."""
    if address is None:
        if workers is not None:
            raise click.UsageError("--workers needs --ray")
        return None
    import torch

    from netbend.distributed import RayOptions, check_address, require_ray

    require_ray()
    check_address(address)
    if address == "local" and workers is None:
        workers = 2
    return RayOptions(address, workers, threads=torch.get_num_threads(), device=str(device))
