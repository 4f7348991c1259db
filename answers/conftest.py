"""pytest set-up for the claims: a proof module that hangs while being imported fails, named.

pytest-timeout stops a claim that hangs, but a module's top-level cells run at import, during
collection, which pytest-timeout does not cover. The same limit (``QED_TIMEOUT`` seconds) applies.
"""

import os
import signal

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    if not isinstance(collector, pytest.Module) or not hasattr(signal, "SIGALRM"):
        return (yield)
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
