"""Wall-clock timing for the speed claims, shared by the proofs that measure ratios.

First written in ``systems/python_overhead.py``; ``systems/depthwise_speed.py`` had its own copy.
The proofs run on one torch thread (``answers/conftest.py``, ``OMP_NUM_THREADS`` in the Makefile), so
a timing here is not swamped by threads waiting for a busy core.
"""

import time


def best_time(fn, repeats: int = 5, inner: int = 20) -> float:
    """Best of ``repeats`` averages over ``inner`` calls of ``fn``, in seconds per call."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return min(times)
