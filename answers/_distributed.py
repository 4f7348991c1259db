"""A simulated ring all-reduce, shared by the proofs that explain data-parallel training.

First written in ``systems/data_parallel_training.py``; ``advice/languages_and_hardware.py`` uses it
too (it had its own copy), so it lives here. Patarasuk and Yuan (2009) describe the algorithm.
"""

import torch


def ring_all_reduce(tensors: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[int]]:
    """Reduce-scatter then all-gather around a ring of ``len(tensors)`` workers.

    Returns what each worker holds at the end (the sum, on every worker) and how many elements each
    worker sent.
    """
    k = len(tensors)
    chunks = [list(t.clone().chunk(k)) for t in tensors]  # chunks[worker][segment]
    sent = [0] * k
    for step in range(k - 1):  # reduce-scatter: after k-1 steps worker w owns the full sum of segment (w+1) % k
        messages = [(w, (w - step) % k, chunks[w][(w - step) % k].clone()) for w in range(k)]
        for w, segment, payload in messages:
            chunks[(w + 1) % k][segment] += payload
            sent[w] += payload.numel()
    for step in range(k - 1):  # all-gather: pass the finished segments around
        messages = [(w, (w + 1 - step) % k, chunks[w][(w + 1 - step) % k].clone()) for w in range(k)]
        for w, segment, payload in messages:
            chunks[(w + 1) % k][segment] = payload
            sent[w] += payload.numel()
    return [torch.cat(c) for c in chunks], sent
