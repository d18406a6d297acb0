"""Shared test set-up: tiny models run faster, and more reproducibly, on one intra-op thread."""
import os

import pytest
import torch

os.environ.setdefault("NETBEND_THREADS", "1")  # what the CLI's global --threads falls back to


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(autouse=True)
def _transform_registry():
    """`--plugin` (in CLI tests and help examples) registers into the global registry: forget it after."""
    from netbend import plugins
    from netbend.transforms import registry

    saved = [(d, dict(d)) for d in (registry.TRANSFORMS, registry._ALIASES, plugins._LOADED_FILES,
                                    plugins._LOADED_ENTRY_POINTS)]
    yield
    for d, old in saved:
        d.clear()
        d.update(old)
