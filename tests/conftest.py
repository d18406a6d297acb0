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
