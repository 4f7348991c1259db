# %% [markdown]
# # Languages, hardware and parallelism for deep learning: the proof
#
# **Question.** Will deep-learning hardware keep specializing? Are Go, Rust or Fortran good for high-performance
# numerical work? How do distributed systems differ from HPC, and what are threads good for in Python?
#
# These are opinion questions, but the facts they rest on are measurable: where a network's arithmetic goes, why
# matrix multiplication suits special hardware, which layout the numerical libraries inherited from Fortran, how
# an HPC collective moves data, and what Python threads can overlap. Claims:
#
# 1. in ResNet-18, convolutions and the final matmul are 2 × 1.814 G FLOPs (torchvision's published figure) and
#    over 98% of all arithmetic, even granting every other op 10 operations per output value
#    (`test_resnet18_arithmetic_is_almost_all_conv_and_matmul`);
# 2. an $n \times n$ matmul does $2n^3$ FLOPs on $3n^2$ numbers, so its arithmetic per byte grows with $n$, while an
#    element-wise add stays at 1/12 FLOP per byte (`test_matmul_reuses_each_byte_n_over_6_times`);
# 3. PyTorch's LAPACK-backed `torch.linalg` results come back in Fortran's column-major layout
#    (`test_linalg_results_are_column_major`);
# 4. a ring all-reduce, the HPC collective behind data-parallel training, gives every worker the exact sum while
#    each sends $2(p-1)N/p$ values, under $2N$ whatever the worker count; a central server receives $(p-1)N$
#    (`test_ring_allreduce_sums_with_bounded_traffic`);
# 5. Python threads overlap waiting (sleep, I/O) but not pure-Python computation, which the GIL serializes
#    (`test_threads_overlap_waiting_not_python_computation`, marked slow).

# %% [markdown]
# ## Where a network's arithmetic goes
#
# A dispatch-mode logger records every ATen op in a ResNet-18 forward pass on a 224 × 224 image (on the `meta`
# device: shapes only, no computation) and the number of values each op writes. `FlopCounterMode` counts the
# FLOPs of convolutions and matmuls. Everything else (batch norm, ReLU, residual adds, pooling) is element-wise: a
# few operations per value written.

# %%
from collections import Counter

import torch
from torch.utils.flop_counter import FlopCounterMode

from answers._dispatch import DispatchLog
from answers._distributed import ring_all_reduce
from answers._models import resnet18

MATMUL_OPS = {"convolution", "addmm", "mm"}
NO_ARITHMETIC = {"empty", "view", "t"}  # allocation and metadata only


def resnet18_work():
    """(FLOPs of convolutions and matmuls, values written by every other arithmetic op) for one 224 × 224 image."""
    with torch.device("meta"):
        model = resnet18().eval()
    x = torch.empty(1, 3, 224, 224, device="meta")
    with torch.no_grad(), FlopCounterMode(display=False) as counter, DispatchLog() as log:
        model(x)
    written = Counter()
    for name, nbytes in log.ops:
        if name not in MATMUL_OPS | NO_ARITHMETIC:
            written[name] += nbytes // 4  # float32 values
    return counter.get_total_flops(), written


MATMUL_FLOPS, ELEMENTWISE_VALUES = resnet18_work()
print(f"convolutions + matmul: {MATMUL_FLOPS / 1e9:.3f} GFLOPs")
for name, values in ELEMENTWISE_VALUES.most_common():
    print(f"{name:>26}: {values / 1e6:6.2f} M values written")

# %% [markdown]
# ## Claims: arithmetic and layout
#
# Hennessy and Patterson's Turing lecture ("A New Golden Age for Computer Architecture", CACM 2019) argues that with
# Dennard scaling over and Moore's law slowing, the remaining gains come from domain-specific architectures, and
# deep learning is the prime example: nearly all of its arithmetic is one kernel, matrix multiplication, which
# reuses every byte it loads many times. That is what systolic arrays (TPUs) and tensor cores exploit.

# %%
def test_resnet18_arithmetic_is_almost_all_conv_and_matmul():
    """ResNet-18's convolutions and matmul do 2 × 1.814 G FLOPs (torchvision publishes 1.814 GFLOPS, counted as multiply-accumulates), over 98% of the total even at 10 operations per value written by every other op."""
    assert abs(MATMUL_FLOPS / 2 / 1e9 - 1.814) < 0.001
    assert set(ELEMENTWISE_VALUES) == {"native_batch_norm", "relu_", "add", "max_pool2d_with_indices", "mean"}
    other_ops_upper_bound = 10 * sum(ELEMENTWISE_VALUES.values())
    assert MATMUL_FLOPS / (MATMUL_FLOPS + other_ops_upper_bound) > 0.98


def test_matmul_reuses_each_byte_n_over_6_times():
    """FlopCounterMode counts 2n³ FLOPs for an n × n float32 matmul, which reads and writes 3n² × 4 bytes, n/6 FLOPs per byte: 43 at n = 256, against 1/12 for an element-wise add."""
    for n in (64, 256):
        a, b = torch.empty(n, n, device="meta"), torch.empty(n, n, device="meta")
        with FlopCounterMode(display=False) as counter:
            torch.mm(a, b)
        assert counter.get_total_flops() == 2 * n**3
        intensity = counter.get_total_flops() / (3 * n * n * 4)
        assert intensity == n / 6
    add_intensity = 1 / (3 * 4)  # one FLOP per element; two loads and one store of 4 bytes
    assert 256 / 6 / add_intensity > 500


def test_linalg_results_are_column_major():
    """torch.linalg's LU, QR, eigenvectors and inverse come back with strides (1, n): Fortran's column-major order, the layout LAPACK expects."""
    A = torch.randn(5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    outputs = {
        "lu_factor": torch.linalg.lu_factor(A).LU,
        "qr.Q": torch.linalg.qr(A).Q,
        "eigh.eigenvectors": torch.linalg.eigh(A + A.T).eigenvectors,
        "inv": torch.linalg.inv(A),
    }
    for name, out in outputs.items():
        assert out.stride() == (1, 5), name
        assert not out.is_contiguous() and out.mT.is_contiguous(), name
    torch.testing.assert_close(outputs["inv"] @ A, torch.eye(5, dtype=torch.float64))  # the layout changes nothing else


# %% [markdown]
# ## Distributed systems and HPC: the ring all-reduce
#
# Data-parallel training sums every worker's gradient on every step, a tightly coupled, bulk-synchronous
# operation typical of HPC (MPI, NCCL) rather than of loosely coupled distributed services. The ring all-reduce
# (Patarasuk and Yuan, 2009; popularized for deep learning by Baidu and Horovod) splits the $N$ values into $p$
# chunks. In $p-1$ reduce-scatter steps each worker passes one chunk to its neighbour, which adds it to its own.
# Then $p-1$ all-gather steps circulate the finished sums. Each worker sends $2(p-1)N/p$ values, so its traffic
# stays under $2N$ however many workers join. A central parameter server instead receives $(p-1)N$ values and
# sends as many, so it becomes the bottleneck.

# %%
def test_ring_allreduce_sums_with_bounded_traffic():
    """For 2, 4 and 8 workers with 24 values each, the ring leaves the exact sum on every worker and each sends 2(p-1)N/p values, under 2N, while a central server would receive (p-1)N."""
    n = 24
    for p in (2, 4, 8):
        g = torch.Generator().manual_seed(p)
        vectors = [torch.randn(n, dtype=torch.float64, generator=g) for _ in range(p)]
        results, sent = ring_all_reduce(vectors)
        expected = torch.stack(vectors).sum(0)
        for result in results:
            torch.testing.assert_close(result, expected, rtol=1e-12, atol=1e-12)
        assert sent == [2 * (p - 1) * n // p] * p
        assert max(sent) < 2 * n
        server_receives = (p - 1) * n
        assert server_receives * 2 == max(sent) * p  # the server's load is p/2 times a ring worker's


# %% [markdown]
# ## What Python threads are for
#
# CPython's global interpreter lock (GIL) lets one thread run Python bytecode at a time. Threads still help when
# they *wait*: a sleeping thread, or one blocked on a file or socket, releases the GIL. Many C extensions (PyTorch's
# kernels, NumPy, file I/O) also release it while they run. So threads suit I/O-bound work such as loading files,
# and processes (or C++ kernels) suit pure-Python computation. Below, four threads that each sleep 50 ms finish
# together in about 50 ms, while two threads that each run a pure-Python loop take as long as running the loops one
# after the other.

# %%
import sys
import threading
import time

import pytest


def run_in_threads(target, count):
    threads = [threading.Thread(target=target) for _ in range(count)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def python_loop(iterations=300_000):
    total = 0
    for i in range(iterations):
        total += i * i
    return total


@pytest.mark.slow
def test_threads_overlap_waiting_not_python_computation():
    """Four threads sleeping 50 ms each finish in under 120 ms, but two threads each running a pure-Python loop take over 1.5 times as long as one loop alone."""
    assert getattr(sys, "_is_gil_enabled", lambda: True)()  # a free-threaded build would change the second half
    assert run_in_threads(lambda: time.sleep(0.05), 4) < 0.12
    one = min(run_in_threads(python_loop, 1) for _ in range(2))
    two = min(run_in_threads(python_loop, 2) for _ in range(2))
    assert two > 1.5 * one


# %% [markdown]
# ## Conclusion
#
# Deep learning's arithmetic is almost all matrix multiplication, which reuses each byte many times. That is why
# specialized matrix hardware pays off, and why the language of the outer loop matters little once the work is
# inside such kernels. The numerical libraries underneath still carry Fortran's column-major layout. Training
# across machines is an HPC problem: a bandwidth-optimal all-reduce every step, not a fault-tolerant service. And in
# Python, threads overlap waiting, not computation.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
