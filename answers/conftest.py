"""pytest set-up for the claims.

- A proof module that hangs while being imported fails, named. pytest-timeout stops a claim that
  hangs, but a module's top-level cells run at import, during collection, which pytest-timeout does
  not cover. The same limit (``QED_TIMEOUT`` seconds) applies.
- torch runs on one thread. Every proof uses tiny tensors, where a second thread only adds
  synchronisation, and on a busy machine (CI, two cores) the default of one thread per core made
  the same claims up to 20 times slower. A claim about threads sets its own count.
- The figures a module draws at import (for its notebook page) are closed once it is collected:
  pytest imports every module into one process, and open figures would pile up.
"""

import os
import signal
import sys

import pytest


def pytest_configure(config):
    try:
        import torch
    except ImportError:  # a probe project without torch
        return
    torch.set_num_threads(1)


def _close_figures():
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    if not isinstance(collector, pytest.Module):
        return (yield)
    if not hasattr(signal, "SIGALRM"):
        try:
            return (yield)
        finally:
            _close_figures()
    limit = int(os.environ.get("QED_TIMEOUT", "120"))

    def stop(signum, frame):
        raise TimeoutError(f"{collector.nodeid} took longer than {limit} s to import (QED_TIMEOUT)")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(limit)
    try:
        return (yield)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        _close_figures()
