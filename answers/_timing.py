"""Wall-clock timing for the speed claims, shared by the proofs that measure ratios.

First written in ``systems/python_overhead.py``; ``systems/depthwise_speed.py`` had its own copy.
Timings run on one torch thread, whatever the caller's setting: ``answers/conftest.py`` and the
Makefile's ``OMP_NUM_THREADS`` cover pytest and ``make``, but not a plain ``mkdocs build`` or a notebook,
where a second thread sped up the standard convolution more than the depthwise one and turned the
depthwise ratio claim red.
"""

import time

import torch


def best_time(fn, repeats: int = 5, inner: int = 20) -> float:
    """Best of ``repeats`` averages over ``inner`` calls of ``fn``, in seconds per call, on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            times.append((time.perf_counter() - start) / inner)
        return min(times)
    finally:
        torch.set_num_threads(threads)
