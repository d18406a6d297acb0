"""The global `netbend --threads N` and its default."""
import os

import pytest
import torch
from click.testing import CliRunner

from netbend.cli import main
from netbend.devices import default_threads, set_threads
from netbend.errors import NetbendError


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_global_threads_sets_torch_threads():
    assert run("--threads", 3, "transforms", "rotate").exit_code == 0
    assert torch.get_num_threads() == 3


def test_default_comes_from_the_environment_then_the_cores(monkeypatch):
    monkeypatch.setenv("NETBEND_THREADS", "3")
    assert run("transforms", "rotate").exit_code == 0
    assert torch.get_num_threads() == 3
    monkeypatch.delenv("NETBEND_THREADS")
    assert default_threads() == max(1, len(os.sched_getaffinity(0)) // 2)
    monkeypatch.setenv("NETBEND_THREADS", "many")
    res = run("transforms", "rotate")
    assert res.exit_code == 2 and "$NETBEND_THREADS" in res.output


@pytest.mark.parametrize("group", ["audio", "cluster"])
def test_old_per_command_threads_still_work(group):
    """`netbend audio --threads 1 ...` and `netbend cluster --threads 1 ...` kept as aliases."""
    res = run("--threads", 2, group, "--threads", 3, *(["layers"] if group == "audio" else ["export", "--help"]))
    assert res.exit_code == 0, res.output
    assert torch.get_num_threads() == 3


def test_bad_thread_counts_fail():
    assert run("--threads", 0, "transforms").exit_code == 2
    with pytest.raises(NetbendError):
        set_threads(0)
