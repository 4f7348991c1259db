# %% [markdown]
# # Python overhead, vectorization and when C++ calls are faster: the proof
#
# **Question.** Should for-loops be vectorized? How much does calling a framework from Python cost compared with
# C++, and why is C++ inference sometimes faster even though TensorFlow and MXNet are C++ underneath?
#
# Every call from Python into PyTorch pays a fixed cost (the interpreter, argument parsing, dispatch, allocating
# the output) before any arithmetic happens: about a microsecond on this CPU. A Python loop over elements pays it
# per element; a vectorized op pays it once. A model made of many small ops is dominated by it, which is the
# part a C++ caller (or a compiled graph) removes. Claims:
#
# 1. a Python loop over a tensor's elements and the vectorized expression agree
#    (`test_loop_and_vectorized_agree`), and the loop is over 100 times slower (`test_loop_is_much_slower`, slow);
# 2. a narrow 20-layer MLP dispatches the same 20 matrix ops whatever the batch size
#    (`test_op_count_does_not_depend_on_batch_size`), so 64 times the FLOPs cost under 8 times the time (about 1–2 times on a quiet machine)
#    (`test_small_model_time_is_overhead`, slow);
# 3. a tiny NumPy op has less per-call overhead than a tiny PyTorch op (`test_numpy_call_overhead_is_lower`, slow);
# 4. where it stops holding: vectorizing by broadcasting materializes the whole (N, M, D) intermediate; a loop
#    over a few chunks gives the same answer with a fraction of the memory
#    (`test_broadcasting_materializes_the_full_intermediate`).

# %% [markdown]
# ## Time per forward pass against batch size
#
# A 20-layer MLP of width 4 does almost no arithmetic. Its time per forward pass stays flat while the batch, and
# with it the FLOPs, grows 64-fold: the time is the per-op overhead, paid 20 times per pass. The dashed line is
# what time proportional to FLOPs would look like.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers._dispatch import DispatchLog
from answers._timing import best_time




def narrow_mlp(depth=20, width=4):
    torch.manual_seed(0)
    return nn.Sequential(*[nn.Linear(width, width) for _ in range(depth)])


model = narrow_mlp()
batch_sizes = [1, 4, 16, 64]
with torch.no_grad():
    seconds = [best_time(lambda: model(torch.randn(b, 4)), repeats=3, inner=10) for b in batch_sizes]
fig, ax = plt.subplots(figsize=(5, 3))
ax.loglog(batch_sizes, [s * 1e6 for s in seconds], "o-", label="measured")
ax.loglog(batch_sizes, [seconds[0] * 1e6 * b for b in batch_sizes], "--", label="if time ∝ FLOPs")
ax.set_xlabel("batch size")
ax.set_ylabel("µs per forward (20 layers)")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Claims: loops versus vectorized code

# %%
def sum_of_squares_loop(x):
    total = torch.zeros(())
    for value in x:  # per element: one indexing op (the iterator) and two tiny arithmetic ops
        total = total + value * value
    return total


def test_loop_and_vectorized_agree():
    """The Python loop's sum of squares equals `(x * x).sum()` and the float64 dot product."""
    x = torch.randn(1000, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(sum_of_squares_loop(x), (x * x).sum(), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close((x * x).sum().double(), x.double() @ x.double(), rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_loop_is_much_slower():
    """Over 1000 elements the Python loop is more than 100 times slower than the vectorized sum of squares."""
    x = torch.randn(1000, generator=torch.Generator().manual_seed(0))
    loop = best_time(lambda: sum_of_squares_loop(x), repeats=2, inner=1)
    vectorized = best_time(lambda: (x * x).sum(), repeats=5, inner=50)
    assert loop / vectorized > 100


# %% [markdown]
# ## Claims: per-op overhead

# %%
def test_op_count_does_not_depend_on_batch_size():
    """The 20-layer MLP dispatches exactly 20 addmm ops for a batch of 1 and for a batch of 64, whose FLOPs are 64 times larger."""
    model = narrow_mlp()
    counts, flops = [], []
    for batch in (1, 64):
        x = torch.randn(batch, 4)
        with torch.no_grad(), DispatchLog() as log:
            model(x)
        counts.append([name for name, _ in log.ops].count("addmm"))
        with FlopCounterMode(display=False) as counter:
            model(x)
        flops.append(counter.get_total_flops())
    assert counts == [20, 20]
    assert flops[1] == 64 * flops[0] == 64 * 20 * 2 * 4 * 4


@pytest.mark.slow
def test_small_model_time_is_overhead():
    """A forward pass of the narrow MLP with batch 64 takes less than 8 times as long as with batch 1 (best of 15 interleaved rounds), although it does 64 times the FLOPs."""
    model = narrow_mlp()
    small, large = torch.randn(1, 4), torch.randn(64, 4)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a busy machine, multi-threaded kernels wait for descheduled threads
    try:
        with torch.no_grad():
            rounds = [(best_time(lambda: model(large), 1, 10), best_time(lambda: model(small), 1, 10)) for _ in range(15)]
    finally:
        torch.set_num_threads(threads)
    assert min(t for t, _ in rounds) / min(t for _, t in rounds) < 8


@pytest.mark.slow
def test_numpy_call_overhead_is_lower():
    """Adding two 1-element arrays is at least 1.3 times faster in NumPy than in PyTorch (best of 5 interleaved rounds): the time is per-call overhead, and NumPy's is smaller."""
    a, b = torch.ones(1), np.ones(1)
    rounds = [(best_time(lambda: a + a, 1, 2000), best_time(lambda: b + b, 1, 2000)) for _ in range(5)]  # interleaved
    assert min(t for t, _ in rounds) / min(n for _, n in rounds) > 1.3


# %% [markdown]
# ## Where it stops holding: vectorizing can cost memory
#
# The vectorized pairwise squared distance `((a[:, None] - b[None]) ** 2).sum(-1)` first builds an (N, M, D)
# tensor. A loop over four row-chunks does four times as many calls but keeps the intermediate four times
# smaller, with the same result; `torch.cdist` avoids the intermediate altogether. Vectorize the inner loops;
# an outer loop over a few large chunks costs almost nothing.

# %%
def largest_output_bytes(fn):
    with DispatchLog() as log:
        result = fn()
    return result, max(written for _, written in log.ops)


def test_broadcasting_materializes_the_full_intermediate():
    """For N=M=64, D=32 the broadcast version writes a 64·64·32·4-byte intermediate; a loop over 4 chunks gives the same distances with one a quarter that size."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 32, generator=g), torch.randn(64, 32, generator=g)
    full, full_bytes = largest_output_bytes(lambda: ((a[:, None] - b[None]) ** 2).sum(-1))
    chunked, chunk_bytes = largest_output_bytes(
        lambda: torch.cat([((rows[:, None] - b[None]) ** 2).sum(-1) for rows in a.chunk(4)])
    )
    assert full_bytes == 64 * 64 * 32 * 4 and chunk_bytes == full_bytes // 4
    torch.testing.assert_close(chunked, full)
    torch.testing.assert_close(full, torch.cdist(a, b) ** 2, rtol=1e-4, atol=1e-3)


# %% [markdown]
# ## Conclusion
#
# Vectorize loops over elements: each Python-level call costs about a microsecond regardless of how little it
# computes. The same fixed cost explains why small models run no faster with bigger inputs until the arithmetic
# catches up, and why calling the same C++ kernels from C++ (or from a captured graph, `torch.compile`, CUDA
# graphs) speeds up models made of many small ops and barely changes large ones. Vectorizing by broadcasting can
# materialize large intermediates; a loop over a few chunks, or a dedicated op, keeps memory bounded.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
